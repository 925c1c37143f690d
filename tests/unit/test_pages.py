"""The pure parts of the fetch stage: which items need their page, how a page folds into its item,
page encodings, retry timing and failure kinds, per-host limits on a hand-moved clock."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.normalize.ids import id_from_url
from pipeline.pages.content import PageContent
from pipeline.pages.merge import fold_page, page_address, same_site, site_of
from pipeline.pages.polite import HostBusy, HostGate, RobotsDisallowed
from pipeline.pages.teaser import is_teaser, page_reason
from pipeline.sources.charset import decode_html, meta_charset
from pipeline.sources.fetch import AddressRefused, FetchError, TooLarge
from pipeline.workers.consume import Postponed
from pipeline.workers.fetch import error_type, retry_delay_s
from schemas.models import RawItem, SourceInfo, SourceType

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "article_pages"
SOURCE = SourceInfo(id="wire", type=SourceType.FEED, outlet="Wire", category="business", language="en")
NOW = datetime(2024, 6, 5, 12, tzinfo=UTC)
LONG = "<p>" + "A paragraph of real article text that goes on. " * 12 + "</p>"


def _item(**fields: object) -> RawItem:
    values: dict[str, object] = {
        "item_id": id_from_url("https://wire.example/a?x=1"),
        "source": SOURCE,
        "fetched_at": NOW,
        "url": "https://wire.example/a?x=1&utm_source=rss",
        "title": "Feed title",
        "content_hash": "h",
    }
    values.update(fields)
    return RawItem.model_validate(values)


@pytest.mark.parametrize(
    ("fields", "mode", "expected"),
    [
        ({}, "auto", "no content"),
        ({"summary_html": "<p>Short teaser.</p>"}, "auto", "content is short (13 < 400 characters)"),
        ({"content_html": LONG}, "auto", None),
        ({"content_html": LONG[:-4] + " Read more »</p>"}, "auto", "content ends like a teaser"),
        ({"summary_html": "跨境理财通试点近日进一步扩容……阅读全文>>"}, "auto", "content ends like a teaser"),
        ({"content_html": LONG}, "always", "fetch_article: always"),
        ({}, "never", None),
        ({"url": None, "guid": "g"}, "always", None),  # nothing to fetch
    ],
)
def test_which_items_need_their_page(fields: dict[str, object], mode: str, expected: str | None) -> None:
    assert page_reason(_item(**fields), mode, 400) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "teaser"),
    [
        ("It went on…", True),
        ("It went on...", True),
        ("点击查看", True),
        ("[Continue reading →]", True),
        ("Done.", False),
    ],
)
def test_teaser_endings(text: str, teaser: bool) -> None:
    assert is_teaser(text) is teaser


def test_sites() -> None:
    assert site_of("news.sina.com.cn") == "sina.com.cn"
    assert site_of("www.bbc.co.uk") == "bbc.co.uk"
    assert site_of("127.0.0.1") == "127.0.0.1"
    assert same_site("https://m.example.com/a", "https://www.example.com/b")
    assert not same_site("https://example.com/a", "https://other.com/a")


def _page(**fields: object) -> PageContent:
    values: dict[str, object] = {"final_url": "https://www.wire.example/2024/a.html", "paragraphs": ["One.", "Two."]}
    values.update(fields)
    return PageContent.model_validate(values)


def test_the_page_canonical_url_names_the_story_on_the_same_site_only() -> None:
    assert page_address(_page(canonical_url="/2024/a")) == (
        "https://www.wire.example/2024/a",
        "https://www.wire.example/2024/a",
        [],
    )
    url, accepted, notes = page_address(_page(canonical_url="https://elsewhere.example/a"))
    assert (url, accepted) == ("https://www.wire.example/2024/a.html", None) and "another site" in notes[0]
    assert page_address(_page()) == ("https://www.wire.example/2024/a.html", None, [])


def test_a_folded_item_is_keyed_by_the_page_and_keeps_good_feed_metadata() -> None:
    item = _item(summary_html="<p>Teaser…</p>", published="Wed, 05 Jun 2024 08:00:00 GMT", authors=[])
    page = _page(
        canonical_url="https://www.wire.example/2024/a",
        title="Page title",
        published="2024-06-04T00:00:00Z",
        updated="2024-06-05T09:00:00Z",
        authors=["Mei Lin"],
        encoding="gb18030",
    )
    folded = fold_page(item, page, status=200, fetched_at=NOW)
    assert folded.item_id == id_from_url("https://www.wire.example/2024/a") != item.item_id
    assert folded.url == "https://www.wire.example/2024/a"
    assert folded.title == "Feed title"  # the feed's, it is good
    assert folded.published == "Wed, 05 Jun 2024 08:00:00 GMT"  # the feed's, it parses
    assert folded.updated == "2024-06-05T09:00:00Z"  # the page fills the gap
    assert folded.authors == ["Mei Lin"]
    assert folded.content_html == "<p>One.</p><p>Two.</p>" and folded.summary_html == "<p>Teaser…</p>"
    assert folded.fetched_at == NOW and folded.content_hash != item.content_hash
    assert folded.page is not None and folded.page.link_id == item.item_id
    assert folded.page.requested_url == "https://wire.example/a?x=1"
    assert (folded.page.status, folded.page.encoding) == (200, "gb18030")


def test_page_dates_replace_unreadable_or_implausible_feed_dates_and_empty_pages_keep_the_feed_text() -> None:
    item = _item(published="yesterday-ish", updated="2031-01-01T00:00:00Z", content_html="<p>Feed body…</p>")
    folded = fold_page(item, _page(paragraphs=[], published="2024-06-04T00:00:00Z"), status=200, fetched_at=NOW)
    assert folded.published == "2024-06-04T00:00:00Z"
    assert folded.updated == "2031-01-01T00:00:00Z"  # the page has none: the feed's stays (the normalizer drops it)
    assert folded.content_html == "<p>Feed body…</p>"
    assert folded.page is not None and any("no article text" in note for note in folded.page.notes)


def test_html_encodings_declared_and_undeclared() -> None:
    gbk = (PAGES / "wealth-connect.gbk.html").read_bytes()
    assert meta_charset(gbk) == "gb2312"
    decoded = decode_html(gbk, "text/html")
    assert decoded.encoding == "gb18030" and "跨境理财通" in decoded.text and decoded.note is None
    undeclared = gbk.replace(b"; charset=gb2312", b"")
    guessed = decode_html(undeclared)
    assert guessed.encoding == "gb18030" and "跨境理财通" in guessed.text and "read as gb18030" in (guessed.note or "")
    big5 = "<html><body><p>臺灣證券交易所今日公布，上市公司營收普遍成長，市場交易熱絡。</p></body></html>".encode(
        "big5"
    )
    assert "證券交易所" in decode_html(big5, "text/html; charset=Big5").text
    assert decode_html(big5).encoding == "big5hkscs"  # undeclared: told from GB18030 by the common characters
    sjis = "<html><head><meta charset='Shift_JIS'></head><body><p>東京の天気は晴れです。ニュースをお伝えします。</p>"
    assert "ニュース" in decode_html(sjis.encode("shift_jis")).text
    undeclared_sjis = sjis.replace("<meta charset='Shift_JIS'>", "").encode("shift_jis")
    assert decode_html(undeclared_sjis).encoding == "cp932"
    utf8 = "<html><body><p>Café ☕ 咖啡</p></body></html>".encode()
    assert decode_html(utf8, "text/html; charset=iso-8859-1").text.endswith("咖啡</p></body></html>")  # mislabelled
    assert decode_html(utf8, "text/html; charset=gbk").encoding == "utf-8"  # the header does not fit the bytes


def test_retry_delays_double_with_jitter_and_honour_retry_after() -> None:
    rng = random.Random(7)
    delays = [retry_delay_s(n, None, base_s=10, cap_s=100, rng=rng) for n in range(1, 7)]
    for attempt, delay in enumerate(delays, start=1):
        ceiling = min(100, 10 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert retry_delay_s(1, 3600, base_s=10, cap_s=100, rng=rng) == 3600


def test_permanent_failures_are_named() -> None:
    assert error_type(RobotsDisallowed("x")) == "robots_disallowed"
    assert error_type(TooLarge("x")) == "too_large"
    assert error_type(AddressRefused("x")) == "address_refused"
    assert error_type(FetchError("x", status=404)) == "not_found"
    assert error_type(FetchError("x", status=410)) == "gone"
    assert error_type(FetchError("x", status=403)) == "http_403"
    assert error_type(FetchError("x")) == "fetch_failed"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_host_gate_limits_concurrency_spacing_and_blocks_after_429() -> None:
    clock = Clock()
    gate = HostGate(clock)
    gate.acquire("h", 2, 1.0, deadline=10)
    with pytest.raises(HostBusy):
        gate.acquire("h", 2, 1.0, deadline=0.5)  # the next start is 1 s away, past the deadline
    clock.now = 1.0
    gate.acquire("h", 2, 1.0, deadline=10)  # a second at once
    clock.now = 5.0
    with pytest.raises(HostBusy):
        gate.acquire("h", 2, 1.0, deadline=5.0)  # both slots taken
    gate.acquire("other", 2, 1.0, deadline=5.0)  # another host is not held up
    gate.release("h")
    with pytest.raises(HostBusy):
        gate.acquire("h", 2, 1.0, deadline=5.5)  # a slot is free, but the delay runs from the release
    clock.now = 6.0
    gate.acquire("h", 2, 1.0, deadline=10)
    gate.block("h", 30)
    with pytest.raises(HostBusy) as blocked:
        gate.acquire("h", 3, 0.0, deadline=100)
    assert blocked.value.wait_s == pytest.approx(30)
    clock.now = 35.0
    with pytest.raises(HostBusy):
        gate.acquire("h", 3, 0.0, deadline=35.5)  # a short block left, but past the deadline


def test_postponed_keeps_the_first_offset_per_partition() -> None:
    postponed = Postponed()
    postponed.add("t", 0, 12, 100.0)
    postponed.add("t", 0, 9, 200.0)
    postponed.add("t", 0, 15, 50.0)
    postponed.add("t", 1, 3, 10.0)
    assert postponed.offsets == {("t", 0): (9, 200.0), ("t", 1): (3, 10.0)}


def test_fetch_article_defaults_and_limits_in_the_sources_file(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError
    from pipeline.sources.catalog import parse_sources

    common = {"outlet": "O", "category": "c"}
    sources = parse_sources(
        {
            "sources": [
                {"id": "f", "type": "feed", "url": "https://a.example/feed", **common},
                {"id": "s", "type": "sitemap", "url": "https://a.example/sitemap.xml", "fetch_delay_s": 5, **common},
                {"id": "p", "type": "jekyll", "path": str(tmp_path), "trusted": True, **common},
                {"id": "n", "type": "feed", "url": "https://a.example/f2", "fetch_article": "never", **common},
            ]
        },
        tmp_path,
    )
    assert [source.article_mode for source in sources] == ["auto", "auto", "never", "never"]
    policy = sources[1].fetch_policy(concurrency=2, delay_s=1.0)
    assert (policy.host_concurrency, policy.host_delay_s, policy.trusted) == (2, 5.0, False)
    with pytest.raises(ConfigError, match="sitemap lists links only"):
        parse_sources(
            {"sources": [{"id": "s", "type": "sitemap", "url": "https://a/s.xml", "fetch_article": "never", **common}]},
            tmp_path,
        )


def test_what_the_extractor_cut_from_a_page_reaches_the_article() -> None:
    """The extractor removes 责任编辑/原标题/文章来源 lines from the page's text; the article still credits them."""
    from pipeline.extract import extract_article
    from pipeline.pages.content import from_extracted
    from pipeline.transform import to_article

    html = (
        "<html><head><title>港交所目标价下调</title></head><body><article><h1>港交所目标价下调</h1>"
        "<p>原标题：里昂下调港交所目标价至574港元</p>"
        + "".join(f"<p>里昂发表研究报告，第{n}段分析港交所成交额与市场情绪的变化，维持评级不变。</p>" for n in range(6))
        + "<p>（文章来源：证券时报网）</p><p>责任编辑：王蒙</p></article></body></html>"
    )
    extracted = extract_article(html, url="https://news.example.cn/a.html", language_hint="zh")
    page = from_extracted(extracted, final_url="https://news.example.cn/a.html", encoding="utf-8", notes=[])
    folded = fold_page(_item(summary_html="<p>里昂下调港交所目标价…</p>"), page, status=200, fetched_at=NOW)
    assert folded.content_html is not None and "责任编辑" not in folded.content_html
    article = to_article(folded, normalized_at=NOW)
    assert article.editor == extracted.editor == "王蒙"
    assert article.original_title == extracted.original_title == "里昂下调港交所目标价至574港元"
    assert article.attribution == extracted.attribution
    assert article.attribution is not None and "证券时报网" in article.attribution
