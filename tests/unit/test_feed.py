from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
import pytest

from pipeline.errors import ParseError
from pipeline.normalize.ids import ID_PATTERN, id_from_url
from pipeline.sources import feed
from pipeline.sources.feed import ParsedFeed
from schemas.models import RawItem, SourceInfo, Validators
from tests.unit.conftest import FEEDS, FETCHED_AT, SEED_URL, feed_bytes


def parse(name: str, source: SourceInfo, **kwargs: Any) -> ParsedFeed:
    return feed.parse(feed_bytes(name), source, fetched_at=FETCHED_AT, **kwargs)


def by_title(result: ParsedFeed) -> dict[str | None, RawItem]:
    return {item.title: item for item in result.items}


# Known facts of each fixture, read off the files.
FORMATS = [
    (
        "rss091.xml",
        "rss091",
        "Harbour Gazette",
        "en-gb",
        ["Ferry timetable changes for the winter", "New crane arrives at the container terminal"],
    ),
    (
        "rss10.rdf",
        "rss10",
        "Science Desk",
        "en",
        ["Comet visible to the naked eye this week", "Coral reefs recover after cooler summer"],
    ),
    (
        "rss20.xml",
        "rss20",
        "21世纪经济报道",
        "zh-cn",
        ["广东8个跨境电商综试区方案同日出炉", "央行：保持流动性合理充裕", "沪深两市成交额突破万亿元"],
    ),
    (
        "atom10.xml",
        "atom10",
        "Atom Example Blog",
        "en",
        ["<em>Rates</em> rise again", "Summary only", "Plain text content"],
    ),
    ("gbk_declared.xml", "rss20", "经济新闻", None, ["朱镕基谈经济改革"]),
    ("big5_undeclared.xml", "rss20", "臺灣經濟日報", None, ["臺灣出口連續十個月成長"]),
    ("utf16_bom.xml", "rss20", "UTF-16 feed", None, ["Café société"]),
]


@pytest.mark.parametrize(("name", "version", "title", "language", "titles"), FORMATS)
def test_formats_and_encodings(
    name: str, version: str, title: str, language: str | None, titles: list[str], feed_source: SourceInfo
) -> None:
    result = parse(name, feed_source)
    assert result.format is not None and result.format.startswith(version)
    assert result.feed_title == title
    assert result.feed_language == language
    assert [item.title for item in result.items] == titles
    assert result.dropped == 0 and result.skipped == []


@pytest.mark.parametrize(("name", "version", "title", "language", "titles"), FORMATS)
def test_every_item_is_complete(
    name: str, version: str, title: str, language: str | None, titles: list[str], feed_source: SourceInfo
) -> None:
    for item in parse(name, feed_source).items:
        assert ID_PATTERN.fullmatch(item.item_id)
        assert len(item.content_hash) == 64
        assert item.source == feed_source
        assert item.fetched_at == FETCHED_AT
        assert item.content_html or item.summary_html


@pytest.mark.parametrize(
    ("name", "encoding", "text"),
    [
        ("gbk_declared.xml", "gb18030", "“镕”字不在 GB2312 中"),
        ("big5_undeclared.xml", "big5hkscs", "財政部公布的資料顯示"),
        ("utf16_bom.xml", "utf-16-le", "Ünïcödé text."),
        ("rss091.xml", "cp1252", "caf\u00e9"),
    ],
)
def test_text_survives_the_encoding(name: str, encoding: str, text: str, feed_source: SourceInfo) -> None:
    result = parse(name, feed_source)
    assert result.encoding == encoding
    assert any(text in (item.summary_html or "") for item in result.items)


def test_undeclared_big5_is_reported(feed_source: SourceInfo) -> None:
    assert any("big5" in warning for warning in parse("big5_undeclared.xml", feed_source).warnings)


def test_rss20_item_fields(feed_source: SourceInfo) -> None:
    items = by_title(parse("rss20.xml", feed_source, base_url="https://news.example.cn/rss.xml"))
    first = items["广东8个跨境电商综试区方案同日出炉"]
    assert first.item_id == id_from_url(SEED_URL)  # tracking parameters and fragment do not change the id
    assert first.guid == "NW202205052369313688"
    assert first.published == "Thu, 05 May 2022 21:38:33 +0800"
    assert first.updated is None
    assert first.tags == ["21世纪经济报道新闻", "跨境电商"]
    assert first.categories == ["21世纪经济报道新闻", "跨境电商"]  # <category> terms: tags and categories
    assert first.category == "21世纪经济报道新闻"
    assert first.outlet is None  # no <source>
    assert first.authors == ["南方财经全媒体记者"]
    assert first.content_html is not None and "<strong>跨境电商联动产业纵深发展</strong>" in first.content_html
    assert first.summary_html == "<p>广东省人民政府印发8个跨境电子商务综合试验区实施方案。</p>"
    assert first.language == "zh-cn"
    assert first.base_url == "https://news.example.cn/rss.xml"
    summary_only = items["沪深两市成交额突破万亿元"]
    assert summary_only.content_html is None
    assert summary_only.summary_html == "<p>沪深两市全天成交额突破<b>1万亿元</b>。</p>"
    assert summary_only.guid is None


def test_rss_ttl_and_link(feed_source: SourceInfo) -> None:
    result = parse("rss20.xml", feed_source)
    assert result.ttl == 30
    assert result.feed_link == "https://news.example.cn/"


def test_rss10_dublin_core(feed_source: SourceInfo) -> None:
    comet = by_title(parse("rss10.rdf", feed_source))["Comet visible to the naked eye this week"]
    assert comet.tags == ["Astronomy"]
    assert comet.authors == ["Mira Okafor"]
    assert "2022-05-05T21:38:33+08:00" in {comet.published, comet.updated}


def test_atom_fields(feed_source: SourceInfo) -> None:
    items = by_title(parse("atom10.xml", feed_source))
    rates = items["<em>Rates</em> rise again"]
    assert rates.url == "https://atom.example/blog/2022/05/rates.html"  # xml:base applied
    assert rates.guid == "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a"
    assert rates.published == "2022-05-05T09:30:00-04:00"
    assert rates.updated == "2022-05-06T08:00:00Z"
    assert rates.authors == ["Jo Reyes", "Sam Lee"]
    assert rates.tags == ["economy", "banks"]
    assert rates.content_html == (
        "<p>The central bank raised its main interest rate by half a percentage point on Thursday.</p>"
        "<p>Economists had expected the move.</p>"
    )
    assert rates.summary_html == "<p>The central bank raised rates by half a point.</p>"  # Atom text, escaped


def test_atom_plain_text_is_escaped_into_html(feed_source: SourceInfo) -> None:
    items = by_title(parse("atom10.xml", feed_source))
    assert items["Summary only"].summary_html == "<p>Plain text summary with a &lt;tag&gt; that is text.</p>"
    assert items["Plain text content"].content_html == (
        "<p>First paragraph of plain text.</p><p>Second paragraph &amp; more.</p>"
    )


def test_atom_entry_without_link_is_identified_by_its_id(feed_source: SourceInfo) -> None:
    plain = by_title(parse("atom10.xml", feed_source))["Plain text content"]
    assert plain.guid == "tag:atom.example,2022:plain"
    assert plain.item_id != id_from_url(plain.url or "")


def test_validators_are_carried(feed_source: SourceInfo) -> None:
    validators = Validators(etag='"abc"', last_modified="Thu, 05 May 2022 13:38:33 GMT")
    result = parse("rss091.xml", feed_source, validators=validators)
    assert all(item.validators == validators for item in result.items)


def test_content_hash_changes_with_the_content(feed_source: SourceInfo) -> None:
    original = feed.parse(feed_bytes("rss091.xml"), feed_source, fetched_at=FETCHED_AT)
    edited_bytes = feed_bytes("rss091.xml").replace(b"twice a day", b"three times a day")
    edited = feed.parse(edited_bytes, feed_source, fetched_at=FETCHED_AT)
    assert original.items[0].item_id == edited.items[0].item_id
    assert original.items[0].content_hash != edited.items[0].content_hash
    assert original.items[1].content_hash == edited.items[1].content_hash


# --- malformed and hostile documents ---


def test_malformed_feed_is_read_leniently(feed_source: SourceInfo) -> None:
    result = parse("malformed.xml", feed_source)
    assert [item.title for item in result.items] == ["Fish & chips prices rise", "Second story survives"]
    assert any("malformed XML" in warning for warning in result.warnings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (feed_bytes("broken.xml"), "malformed rss20 feed, no entry could be recovered"),
        (feed_bytes("not_a_feed.html"), "not an RSS or Atom feed"),
        (b"", "empty document"),
        (b"   \n\t ", "empty document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not an RSS or Atom feed"),
        (b"just some text", "not an RSS or Atom feed"),
        (b'{"json": true}', "not an RSS or Atom feed"),
    ],
)
def test_nothing_usable_raises(data: bytes, message: str, feed_source: SourceInfo) -> None:
    with pytest.raises(ParseError, match=message):
        feed.parse(data, feed_source, fetched_at=FETCHED_AT)


def test_valid_feed_without_entries_is_empty_not_an_error(feed_source: SourceInfo) -> None:
    data = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>'
    result = feed.parse(data, feed_source, fetched_at=FETCHED_AT)
    assert result.items == [] and result.feed_title == "Quiet"


@pytest.mark.parametrize("name", ["billion_laughs.xml", "quadratic_blowup.xml"])
def test_entity_expansion_is_refused(name: str, feed_source: SourceInfo) -> None:
    with pytest.raises(ParseError, match="declares XML entities"):
        parse(name, feed_source)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    return secret


def test_external_entity_is_refused_and_never_read(
    secret_file: Path, feed_source: SourceInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = feed_bytes("xxe_file.xml").replace(b"@SECRET_URI@", secret_file.as_uri().encode())
    opened: list[str] = []
    real_open = open

    def spying_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spying_open)
    with pytest.raises(ParseError, match="declares XML entities") as caught:
        feed.parse(data, feed_source, fetched_at=FETCHED_AT)
    assert "TOP-SECRET-MARKER" not in str(caught.value)
    assert str(secret_file) not in opened


def test_external_dtd_is_never_fetched(secret_file: Path, feed_source: SourceInfo) -> None:
    dtd = secret_file.with_suffix(".dtd")
    dtd.write_text('<!ENTITY secret "TOP-SECRET-MARKER">', encoding="utf-8")
    data = feed_bytes("xxe_external_dtd.xml").replace(b"@SECRET_URI@", dtd.as_uri().encode())
    result = feed.parse(data, feed_source, fetched_at=FETCHED_AT)
    dumped = result.model_dump_json()
    assert "TOP-SECRET-MARKER" not in dumped
    assert [item.url for item in result.items] == ["https://xxe.example/dtd"]


def test_feedparser_never_fetches_or_opens(
    tmp_path: Path, feed_source: SourceInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bytes that name a URL or a file are parsed as a document, never fetched or opened."""
    local = tmp_path / "feed.xml"
    local.write_bytes(feed_bytes("rss091.xml"))

    def no_network(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("feedparser tried to fetch a URL")

    monkeypatch.setattr(feedparser.http, "get", no_network)
    for data in (str(local).encode(), local.as_uri().encode(), b"https://example.com/feed.xml"):
        with pytest.raises(ParseError):
            feed.parse(data, feed_source, fetched_at=FETCHED_AT)


# --- entries with gaps, links, titles, dates ---


def test_entries_with_missing_fields(feed_source: SourceInfo) -> None:
    result = parse("missing_fields.xml", feed_source)
    items = by_title(result)
    assert set(items) == {"No link, has guid", "No link, no guid, has a date", None, "No date at all"}
    assert items["No link, has guid"].url is None
    assert items["No link, has guid"].guid == "gaps-0001"
    assert items["No link, no guid, has a date"].guid is None
    assert items[None].summary_html == "No title, no link, no guid, no date: only this description."
    assert items["No date at all"].published is None and items["No date at all"].updated is None
    assert len({item.item_id for item in result.items}) == 4
    # the empty <item/> cannot be identified
    assert [(s.position, "nothing identifies it" in s.reason) for s in result.skipped] == [(4, True)]


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        (
            None,
            {
                "Root-relative": "https://relative.example/news/2022/05/one.html",
                "Path-relative": "https://relative.example/two.html",
                "Protocol-relative": "https://cdn.relative.example/three.html",
            },
        ),
        (
            "https://relative.example/feeds/main.xml",
            {
                "Root-relative": "https://relative.example/news/2022/05/one.html",
                "Path-relative": "https://relative.example/feeds/two.html",
                "Protocol-relative": "https://cdn.relative.example/three.html",
            },
        ),
    ],
)
def test_relative_links_resolve(base_url: str | None, expected: dict[str, str], feed_source: SourceInfo) -> None:
    from pipeline.normalize.urls import canonical_url

    items = by_title(parse("relative_urls.xml", feed_source, base_url=base_url))
    for title, url in expected.items():
        item = items[title]
        assert canonical_url(item.url, base=item.base_url) == url
        assert item.item_id == id_from_url(url)


def test_relative_links_inside_content_are_resolved(feed_source: SourceInfo) -> None:
    items = by_title(parse("relative_urls.xml", feed_source, base_url="https://relative.example/feeds/main.xml"))
    assert items["Root-relative"].summary_html == '<p>See <a href="https://relative.example/about">about</a>.</p>'


def test_html_in_titles_is_kept_raw(feed_source: SourceInfo) -> None:
    titles = [item.title for item in parse("html_titles.xml", feed_source).items]
    assert titles[0] == '<script>alert("x")</script>Breaking: <b>storm</b> hits coast'
    assert titles[3] == "<script>only a script</script>"


def test_dates_are_kept_as_written(feed_source: SourceInfo) -> None:
    published = [item.published for item in parse("dates.xml", feed_source).items]
    assert published == [
        "Sat, 01 Jan 2101 00:00:00 GMT",
        "Mon, 01 Jan 1979 00:00:00 GMT",
        "sometime last week",
        "2022年5月5日 21:38",
    ]


# --- limits ---


def big_feed(count: int) -> bytes:
    items = "".join(
        f"<item><title>Story {i}</title><link>https://big.example/{i}</link>"
        f"<pubDate>Thu, 05 May 2022 13:38:33 GMT</pubDate><description>Body {i}</description></item>"
        for i in range(count)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>{items}</channel></rss>'.encode()


@pytest.fixture(scope="module")
def ten_thousand() -> bytes:
    return big_feed(10_000)


def test_big_feed_keeps_the_first_max_items(ten_thousand: bytes, feed_source: SourceInfo) -> None:
    result = feed.parse(ten_thousand, feed_source, fetched_at=FETCHED_AT)
    assert len(result.items) == 5000
    assert result.dropped == 5000
    assert result.items[0].title == "Story 0" and result.items[-1].title == "Story 4999"
    assert len({item.item_id for item in result.items}) == 5000


@pytest.mark.parametrize(("max_items", "kept", "dropped"), [(1, 1, 19), (19, 19, 1), (20, 20, 0), (21, 20, 0)])
def test_max_items(max_items: int, kept: int, dropped: int, feed_source: SourceInfo) -> None:
    result = feed.parse(big_feed(20), feed_source, fetched_at=FETCHED_AT, max_items=max_items)
    assert (len(result.items), result.dropped) == (kept, dropped)
    assert [item.title for item in result.items] == [f"Story {i}" for i in range(kept)]


def test_item_over_the_size_limit_is_skipped_with_a_reason(feed_source: SourceInfo) -> None:
    huge = "x" * 3000
    data = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>S</title>'
        "<item><title>small</title><link>https://s.example/1</link><description>ok</description></item>"
        f"<item><title>huge</title><link>https://s.example/2</link><description>{huge}</description></item>"
        "<item><title>small too</title><link>https://s.example/3</link></item>"
        "</channel></rss>"
    ).encode()
    result = feed.parse(data, feed_source, fetched_at=FETCHED_AT, max_item_bytes=2048)
    assert [item.title for item in result.items] == ["small", "small too"]
    assert len(result.skipped) == 1
    assert result.skipped[0].position == 1
    assert "over the limit of 2048" in result.skipped[0].reason
    assert FEEDS.exists()


def test_an_aggregated_entry_names_its_outlet(feed_source: SourceInfo) -> None:
    data = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>聚合</title>'
        "<item><title>沪指收涨</title><link>https://agg.example/1</link>"
        '<source url="https://www.cls.cn/rss">财联社</source><category>电报</category></item>'
        "<item><title>无来源</title><link>https://agg.example/2</link></item></channel></rss>"
    ).encode()
    items = by_title(feed.parse(data, feed_source, fetched_at=FETCHED_AT))
    assert (items["沪指收涨"].outlet, items["沪指收涨"].category) == ("财联社", "电报")
    assert (items["无来源"].outlet, items["无来源"].category, items["无来源"].categories) == (None, None, [])
