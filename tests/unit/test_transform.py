from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from pipeline.config import PIPELINE_VERSION
from pipeline.errors import InvalidItem
from pipeline.normalize.ids import id_from_url
from pipeline.sources import feed, jekyll
from pipeline.transform import normalize_item, to_article
from schemas.models import Article, RawItem, SourceInfo, SourceType
from tests.unit.conftest import (
    FETCHED_AT,
    NORMALIZED_AT,
    SEED_CATEGORY,
    SEED_OUTLET,
    SEED_TAG,
    SEED_TITLE,
    SEED_URL,
    feed_bytes,
)

MakeRaw = Callable[..., RawItem]


def seed_paragraphs(seed: str) -> list[str]:
    """The seed's paragraphs, extracted independently of the code under test (its HTML is simple)."""
    found = re.findall(r"<p[^>]*>(.*?)</p>", seed, flags=re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", p)).strip() for p in found]


@pytest.fixture(scope="module")
def seed_raw(seed_bytes: bytes, jekyll_source: SourceInfo) -> RawItem:
    return jekyll.parse(seed_bytes, jekyll_source, path="seed.txt", fetched_at=FETCHED_AT)


@pytest.fixture(scope="module")
def seed_article(seed_raw: RawItem) -> Article:
    return to_article(seed_raw, normalized_at=NORMALIZED_AT)


# --- the seed, field by field ---


def test_seed_id_is_from_the_canonical_url(seed_article: Article) -> None:
    assert seed_article.id == id_from_url(SEED_URL)
    assert seed_article.url == SEED_URL


def test_seed_title(seed_article: Article) -> None:
    assert seed_article.title == SEED_TITLE


def test_seed_body_is_one_paragraph_per_line(seed_article: Article, seed_bytes: bytes) -> None:
    expected = seed_paragraphs(seed_bytes.decode("utf-8"))
    assert expected[-1] == "（文章来源：21世纪经济报道）"
    assert seed_article.body_text.split("\n") == expected[:-1]


@pytest.mark.parametrize("subhead", ["跨境电商联动产业纵深发展", "打造跨境电商全产业链生态圈"])
def test_seed_bold_subheads_are_their_own_paragraph(seed_article: Article, subhead: str) -> None:
    assert subhead in seed_article.body_text.split("\n")


def test_seed_bold_lead_in_stays_in_its_paragraph(seed_article: Article) -> None:
    lines = seed_article.body_text.split("\n")
    assert any(line.startswith("跨境电商发展进入生态化的阶段") and "例如，跨境电商平台" in line for line in lines)


@pytest.mark.parametrize(
    "absent",
    [
        "<",
        ">",
        "返回首页",
        "返回21世纪经济报道新闻",
        "finews.withounder.com",
        "http",
        "文章来源",
        "&amp;",
        "\u200b",
        "\n\n",
    ],
)
def test_seed_body_has_no_markup_navigation_or_attribution(seed_article: Article, absent: str) -> None:
    assert absent not in seed_article.body_text


def test_seed_attribution(seed_article: Article) -> None:
    assert seed_article.attribution == "文章来源：21世纪经济报道"


def test_seed_summary_is_the_lead(seed_article: Article, seed_bytes: bytes) -> None:
    first = seed_paragraphs(seed_bytes.decode("utf-8"))[0]
    assert len(first) <= 200
    assert seed_article.summary == first


def test_seed_dates_and_versions(seed_article: Article) -> None:
    assert seed_article.published_at == datetime(2022, 5, 5, 13, 38, 33, tzinfo=UTC)
    assert seed_article.fetched_at == FETCHED_AT
    assert seed_article.normalized_at == NORMALIZED_AT
    assert seed_article.version == int(FETCHED_AT.timestamp()) * 1000
    assert seed_article.pipeline_version == PIPELINE_VERSION


def test_seed_classification(seed_article: Article) -> None:
    assert seed_article.language == "zh"
    assert seed_article.outlet == SEED_OUTLET
    assert seed_article.category == SEED_CATEGORY
    assert SEED_TAG in seed_article.tags
    assert seed_article.source_id == "21jingji"
    assert seed_article.source_type is SourceType.JEKYLL


def test_seed_keywords(seed_article: Article) -> None:
    assert "跨境电商" in seed_article.keywords
    assert "综试区" in seed_article.keywords
    assert len(seed_article.keywords) <= 10


def test_seed_counts_and_hash(seed_article: Article) -> None:
    assert seed_article.char_count == len(seed_article.body_text)
    expected = hashlib.sha256(f"{seed_article.title}\n{seed_article.body_text}".encode()).hexdigest()
    assert seed_article.content_hash == expected


def test_seed_article_round_trips_as_json(seed_article: Article) -> None:
    assert Article.model_validate_json(seed_article.model_dump_json()) == seed_article


def test_seed_normalizes_without_notes(seed_raw: RawItem) -> None:
    assert normalize_item(seed_raw, normalized_at=NORMALIZED_AT).notes == ()


def test_transform_is_deterministic(seed_raw: RawItem, seed_article: Article) -> None:
    assert to_article(seed_raw, normalized_at=NORMALIZED_AT) == seed_article


def test_seed_footer_left_in_the_body_is_still_removed(seed_raw: RawItem, seed_article: Article) -> None:
    """If a producer hands over the whole post body, navigation and the bare link still go."""
    whole = (seed_raw.content_html or "") + (
        "\n\nhttp://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688\n\n"
        "<p>[返回21世纪经济报道新闻](//finews.withounder.com/category/21shijijingjibaodao.html)｜"
        "[返回首页](//finews.withounder.com/)</p>"
    )
    article = to_article(seed_raw.model_copy(update={"content_html": whole}), normalized_at=NORMALIZED_AT)
    assert article.body_text == seed_article.body_text
    assert article.attribution == seed_article.attribution


def test_seed_with_fullwidth_entities_and_zero_width(seed_raw: RawItem, seed_article: Article) -> None:
    dirty = (
        (seed_raw.content_html or "")
        .replace("B2C", "Ｂ２Ｃ")
        .replace("跨境电商", "跨境\u200b电商")
        .replace("“闭环式”", "&ldquo;闭环式&rdquo;")
    )
    assert dirty != seed_raw.content_html
    article = to_article(seed_raw.model_copy(update={"content_html": dirty}), normalized_at=NORMALIZED_AT)
    assert article.body_text == seed_article.body_text


# --- feed entries ---


@pytest.fixture(scope="module")
def rss20_items(feed_source: SourceInfo) -> dict[str | None, RawItem]:
    result = feed.parse(feed_bytes("rss20.xml"), feed_source, fetched_at=FETCHED_AT)
    return {item.title: item for item in result.items}


def test_feed_entry_with_content_uses_the_content(rss20_items: dict[str | None, RawItem]) -> None:
    article = to_article(rss20_items["广东8个跨境电商综试区方案同日出炉"], normalized_at=NORMALIZED_AT)
    assert article.body_text.split("\n") == [
        "5月5日，广东省人民政府正式发布通知。",
        "跨境电商联动产业纵深发展",
        "今年2月，国务院批复同意在27个城市和地区设立跨境电子商务综合试验区。",
    ]
    assert article.id == id_from_url(SEED_URL)  # the feed's copy of the seed story has the seed's id
    assert article.url == SEED_URL
    assert article.published_at == datetime(2022, 5, 5, 13, 38, 33, tzinfo=UTC)
    assert article.language == "zh"
    assert article.tags == ["wire", "21世纪经济报道新闻", "跨境电商"]
    assert article.authors == ["南方财经全媒体记者"]
    assert article.category == "news"


def test_feed_entry_without_content_uses_the_summary(rss20_items: dict[str | None, RawItem]) -> None:
    article = to_article(rss20_items["沪深两市成交额突破万亿元"], normalized_at=NORMALIZED_AT)
    assert article.body_text == "沪深两市全天成交额突破1万亿元。"
    assert article.summary == article.body_text


@pytest.mark.parametrize(
    ("name", "title", "expected_title"),
    [
        (
            "html_titles.xml",
            '<script>alert("x")</script>Breaking: <b>storm</b> hits coast',
            "Breaking: storm hits coast",
        ),
        ("html_titles.xml", "Tom &amp; Jerry <i>return</i>", "Tom & Jerry return"),
        ("atom10.xml", "<em>Rates</em> rise again", "Rates rise again"),
    ],
)
def test_feed_titles_are_cleaned(name: str, title: str, expected_title: str, feed_source: SourceInfo) -> None:
    items = {i.title: i for i in feed.parse(feed_bytes(name), feed_source, fetched_at=FETCHED_AT).items}
    assert to_article(items[title], normalized_at=NORMALIZED_AT).title == expected_title


def test_fullwidth_title_is_folded(feed_source: SourceInfo) -> None:
    items = feed.parse(feed_bytes("html_titles.xml"), feed_source, fetched_at=FETCHED_AT).items
    article = to_article(items[2], normalized_at=NORMALIZED_AT)
    assert article.title == "Full－width ABC123，标题"


def test_title_that_is_only_a_script_falls_back_to_the_body(make_raw: MakeRaw) -> None:
    result = normalize_item(
        make_raw(title="<script>x()</script>", content_html="<p>Real text here.</p>"), normalized_at=NORMALIZED_AT
    )
    assert result.article.title == "Real text here."
    assert any("no usable title" in note for note in result.notes)


@pytest.mark.parametrize(
    ("base_url", "url", "expected"),
    [
        ("https://relative.example/feeds/main.xml", "/news/one.html", "https://relative.example/news/one.html"),
        ("https://relative.example/feeds/main.xml", "two.html", "https://relative.example/feeds/two.html"),
        (None, "//cdn.example/three.html", "https://cdn.example/three.html"),
        (None, "/no-base", None),
        (None, None, None),
    ],
)
def test_relative_links_are_resolved(
    make_raw: MakeRaw, base_url: str | None, url: str | None, expected: str | None
) -> None:
    assert to_article(make_raw(url=url, base_url=base_url), normalized_at=NORMALIZED_AT).url == expected


@pytest.mark.parametrize(
    ("published", "updated", "expected", "noted"),
    [
        ("Thu, 05 May 2022 13:38:33 GMT", None, datetime(2022, 5, 5, 13, 38, 33, tzinfo=UTC), False),
        (None, "2022-05-05T13:38:33Z", datetime(2022, 5, 5, 13, 38, 33, tzinfo=UTC), False),
        (None, None, None, False),
        ("Sat, 01 Jan 2101 00:00:00 GMT", None, None, True),
        ("Mon, 01 Jan 1979 00:00:00 GMT", None, None, True),
        ("sometime last week", None, None, True),
        ("sometime last week", "2022-05-04T00:00:00Z", datetime(2022, 5, 4, tzinfo=UTC), True),
        ("2022-05-07T00:00:00Z", None, datetime(2022, 5, 7, tzinfo=UTC), False),  # within a day of the fetch
        ("2022-05-07T00:00:01Z", None, None, True),
    ],
)
def test_dates(
    make_raw: MakeRaw, published: str | None, updated: str | None, expected: datetime | None, noted: bool
) -> None:
    result = normalize_item(make_raw(published=published, updated=updated), normalized_at=NORMALIZED_AT)
    assert result.article.published_at == expected
    assert any("date" in note for note in result.notes) is noted


@pytest.mark.parametrize(
    ("source_language", "published", "expected"),
    [
        ("zh", "2022年5月5日 21:38", datetime(2022, 5, 5, 13, 38, tzinfo=UTC)),
        ("en", "2022-05-05 13:38", datetime(2022, 5, 5, 13, 38, tzinfo=UTC)),
        (None, "2022-05-05 13:38", datetime(2022, 5, 5, 13, 38, tzinfo=UTC)),
        ("ja", "2022-05-05 22:38", datetime(2022, 5, 5, 13, 38, tzinfo=UTC)),
    ],
)
def test_naive_dates_use_the_source_zone(
    make_raw: MakeRaw, feed_source: SourceInfo, source_language: str | None, published: str, expected: datetime
) -> None:
    source = feed_source.model_copy(update={"language": source_language})
    raw = make_raw(source=source, published=published, content_html="<p>text</p>")
    assert to_article(raw, normalized_at=NORMALIZED_AT).published_at == expected


def test_naive_date_of_a_chinese_article_without_a_declared_language(make_raw: MakeRaw) -> None:
    raw = make_raw(
        published="2022-05-05 21:38:33", title="跨境电商", content_html="<p>广东8个跨境电商综试区方案同日出炉。</p>"
    )
    assert to_article(raw, normalized_at=NORMALIZED_AT).published_at == datetime(2022, 5, 5, 13, 38, 33, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source_category", "fields", "expected"),
    [
        ("news", {"category": "证券时报网/要闻", "categories": ["金融", "证券时报网", "要闻"]}, "news"),  # fixed wins
        (None, {"category": "证券时报网/要闻", "categories": ["金融", "证券时报网", "要闻"]}, "证券时报网/要闻"),
        (None, {"categories": ["markets", "x"]}, "markets"),  # a feed's first <category>
        (None, {"tags": ["markets"]}, "uncategorized"),  # a tag is not a category
        (None, {}, "uncategorized"),
    ],
)
def test_category_is_the_sources_else_the_items(
    make_raw: MakeRaw, feed_source: SourceInfo, source_category: str | None, fields: dict[str, object], expected: str
) -> None:
    source = feed_source.model_copy(update={"category": source_category})
    assert to_article(make_raw(source=source, **fields), normalized_at=NORMALIZED_AT).category == expected


OUTLETS = {"emnews": "东方财富", "21shijijingjibaodao": "21世纪经济报道", "证券时报网": "证券时报"}


@pytest.mark.parametrize(
    ("source_fields", "raw_fields", "expected"),
    [
        # the mapping of the item's category path, then of its categories from the most specific
        ({"outlets": OUTLETS}, {"category": "emnews", "categories": ["emnews"]}, "东方财富"),
        (
            {"outlets": OUTLETS},
            {"category": "证券时报网/要闻", "categories": ["金融", "证券时报网", "要闻"]},
            "证券时报",
        ),
        ({"outlets": OUTLETS, "outlet": "Fixed"}, {"category": "emnews"}, "东方财富"),
        # the source's fixed outlet
        ({"outlets": OUTLETS, "outlet": "Fixed"}, {"category": "other", "outlet": "每经网"}, "Fixed"),
        # the outlet the item names (a Hexo author, a feed's <source>)
        ({}, {"category": "每经网/分类", "outlet": "每经网"}, "每经网"),
        # an attribution in the body
        ({}, {"content_html": "<p>正文。</p><p>（文章来源：上海证券报）</p>"}, "上海证券报"),
        ({}, {"content_html": "<p>离岸人民币升至6.3512。(央视新闻)</p>"}, "央视新闻"),
        ({}, {"content_html": "<p>正文。</p><p>每日经济新闻综合央视新闻、新华社报道</p>"}, "example-feed"),
        # else the source id
        ({}, {}, "example-feed"),
    ],
)
def test_outlet_rules(
    make_raw: MakeRaw,
    feed_source: SourceInfo,
    source_fields: dict[str, object],
    raw_fields: dict[str, object],
    expected: str,
) -> None:
    source = feed_source.model_copy(update={"outlet": None, **source_fields})
    assert to_article(make_raw(source=source, **raw_fields), normalized_at=NORMALIZED_AT).outlet == expected


def test_an_author_that_became_the_outlet_is_not_an_author(make_raw: MakeRaw, feed_source: SourceInfo) -> None:
    source = feed_source.model_copy(update={"outlet": None})
    article = to_article(
        make_raw(source=source, outlet="证券时报网", authors=["证券时报网"]), normalized_at=NORMALIZED_AT
    )
    assert (article.outlet, article.authors) == ("证券时报网", [])
    fixed = to_article(make_raw(outlet="证券时报网", authors=["证券时报网"]), normalized_at=NORMALIZED_AT)
    assert (fixed.outlet, fixed.authors) == ("Example News", ["证券时报网"])


def test_markdown_post_digest_becomes_the_summary(make_raw: MakeRaw) -> None:
    markdown = (
        "> 据霍尼韦尔官网消息，霍尼韦尔宣布为蔚来提供制冷剂。（上海证券报）\n\n"
        '<p>国内首款使用超低GWP制冷剂的<a href="http://quote.eastmoney.com/unify/r/106.NIO" data-code="106,NIO">'
        "蔚来</a>汽车来了！</p>\n\n    <p>巨化股份(600160)已有产品。</p>\n\n*完*"
    )
    article = to_article(
        make_raw(title="", content_html=markdown, content_format="markdown"), normalized_at=NORMALIZED_AT
    )
    assert article.summary == "据霍尼韦尔官网消息，霍尼韦尔宣布为蔚来提供制冷剂。（上海证券报）"
    assert article.body_text == "国内首款使用超低GWP制冷剂的蔚来汽车来了！\n巨化股份(600160)已有产品。\n完"
    assert article.title == "国内首款使用超低GWP制冷剂的蔚来汽车来了！"
    assert article.tickers == ["600160.SH", "NIO.US"]  # codes in the text first, then those of links


def test_credits_go_to_their_fields(make_raw: MakeRaw, feed_source: SourceInfo) -> None:
    body = (
        "<p>原标题：2021年1—11月份利润同比增长38.0%</p>"
        "<p>中证网讯（记者 张勤峰 见习记者 连润）中央结算公司9日公布数据。</p>"
        "<p>图片来源：摄图网（图文无关）</p><p>第二段，贵州茅台（600519.SH）涨。</p>"
        "<p>海量资讯、精准解读，尽在新浪财经APP</p><p>责任编辑：王蒙 SF055</p>"
    )
    article = to_article(make_raw(content_html=body, authors=["Desk"]), normalized_at=NORMALIZED_AT)
    assert article.body_text == "中央结算公司9日公布数据。\n第二段，贵州茅台（600519.SH）涨。"
    assert (article.editor, article.original_title) == ("王蒙", "2021年1—11月份利润同比增长38.0%")
    assert article.authors == ["Desk", "张勤峰", "连润"]
    assert article.tickers == ["600519.SH"]


def test_a_dateline_dates_a_post_without_a_date(make_raw: MakeRaw, jekyll_source: SourceInfo) -> None:
    body = "<h1>天泽信息收关注函</h1><p>每日经济新闻 2021-10-19 21:45:40</p><p>10月18日，天泽信息收到关注函。</p>"
    result = normalize_item(
        make_raw(source=jekyll_source, title="天泽信息收关注函", published="Invalid Date", content_html=body),
        normalized_at=NORMALIZED_AT,
    )
    assert result.article.published_at == datetime(2021, 10, 19, 13, 45, 40, tzinfo=UTC)  # Beijing time
    assert result.article.body_text == "10月18日，天泽信息收到关注函。"
    assert any("'Invalid Date' is not a date" in note for note in result.notes)
    assert any("dateline" in note for note in result.notes)


def test_the_sources_timezone_reads_naive_dates(make_raw: MakeRaw, feed_source: SourceInfo) -> None:
    source = feed_source.model_copy(update={"timezone": "America/New_York"})
    article = to_article(make_raw(source=source, published="2022-01-05 09:30"), normalized_at=NORMALIZED_AT)
    assert article.published_at == datetime(2022, 1, 5, 14, 30, tzinfo=UTC)


def test_tags_merge_source_defaults_and_item_tags(make_raw: MakeRaw) -> None:
    article = to_article(make_raw(tags=["Wire", "markets", "MARKETS"]), normalized_at=NORMALIZED_AT)
    assert article.tags == ["wire", "markets"]


def test_summary_used_when_content_has_no_text(make_raw: MakeRaw) -> None:
    raw = make_raw(content_html="<p><img src='x.png'></p>", summary_html="<p>The summary.</p>")
    result = normalize_item(raw, normalized_at=NORMALIZED_AT)
    assert result.article.body_text == "The summary."
    assert any("used the summary" in note for note in result.notes)


def test_english_article(make_raw: MakeRaw) -> None:
    raw = make_raw(
        title="Central bank raises rates",
        content_html=(
            "<p>The central bank raised its main interest rate on Thursday.</p><p>Banks welcomed the rate rise.</p>"
        ),
    )
    article = to_article(raw, normalized_at=NORMALIZED_AT)
    assert article.language == "en"
    assert {"bank", "central"} <= set(article.keywords)
    assert article.attribution is None


# --- invalid items ---


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"title": None, "content_html": None, "summary_html": None}, "no title and no body"),
        ({"title": "   ", "content_html": "<p> </p>", "summary_html": None}, "no title and no body"),
        ({"title": "<script>x</script>", "content_html": None}, r"title empty after cleaning .* and no body"),
        ({"title": "<style>p{}</style>", "content_html": "<script>only()</script>"}, "title empty after cleaning"),
        ({"item_id": "not-an-id"}, "is not a newsflow id"),
        ({"item_id": "A" * 32}, "is not a newsflow id"),
    ],
)
def test_invalid_items(make_raw: MakeRaw, fields: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidItem, match=reason):
        to_article(make_raw(**fields), normalized_at=NORMALIZED_AT)


# --- every fixture item, end to end through JSON ---

GOOD_FEEDS = [
    "rss091.xml",
    "rss10.rdf",
    "rss20.xml",
    "atom10.xml",
    "gbk_declared.xml",
    "big5_undeclared.xml",
    "utf16_bom.xml",
    "malformed.xml",
    "missing_fields.xml",
    "relative_urls.xml",
    "html_titles.xml",
    "dates.xml",
]


@pytest.mark.parametrize("name", GOOD_FEEDS)
def test_every_fixture_item_survives_json_and_normalizes(name: str, feed_source: SourceInfo) -> None:
    for raw in feed.parse(feed_bytes(name), feed_source, fetched_at=FETCHED_AT).items:
        decoded = RawItem.model_validate_json(raw.model_dump_json())
        assert decoded == raw
        try:
            article = to_article(decoded, normalized_at=NORMALIZED_AT)
        except InvalidItem as exc:
            assert raw.title == "<script>only a script</script>"  # the one entry with nothing in it
            assert "title empty after cleaning" in str(exc)
            continue
        assert article.id == raw.item_id
        assert article.title and "<" not in article.title.replace("<3", "")
        assert "<p" not in article.body_text and "<script" not in article.body_text
        assert article.published_at is None or article.published_at.tzinfo is not None
        assert article.char_count == len(article.body_text)
        assert Article.model_validate_json(article.model_dump_json()) == article


def test_fixture_dates(feed_source: SourceInfo) -> None:
    chinese_source = feed_source.model_copy(update={"language": "zh"})
    results = {
        raw.title: normalize_item(raw, normalized_at=NORMALIZED_AT)
        for raw in feed.parse(feed_bytes("dates.xml"), chinese_source, fetched_at=FETCHED_AT).items
    }
    for title in ("From the future", "Before the web", "Not a date"):
        assert results[title].article.published_at is None
        assert any("dropped" in note for note in results[title].notes)
    naive = results["Chinese wall-clock time"]
    assert naive.article.published_at == datetime(2022, 5, 5, 13, 38, tzinfo=UTC)
    assert naive.notes == ()


@pytest.mark.parametrize(
    ("content", "content_format"),
    [
        ("- " * 20_000 + "x", "markdown"),  # 40 KB of Markdown: 20,000 nested lists
        ("> " * 20_000 + "x\n\nbody", "markdown"),
        ("<div>" * 20_000 + "x", "html"),
        ("<blockquote><span>" * 5_000 + "x", "html"),
    ],
)
def test_markup_nested_deeper_than_any_article_is_refused_at_once(
    make_raw: MakeRaw, content: str, content_format: str
) -> None:
    # Refused before the HTML parser runs: building such a tree would take it minutes.
    with pytest.raises(InvalidItem, match="nests more than 256 elements deep"):
        to_article(make_raw(content_html=content, content_format=content_format), normalized_at=NORMALIZED_AT)


def test_many_flat_tags_are_not_nesting(make_raw: MakeRaw) -> None:
    rows = "".join(f"<tr><td>{n}<td>行{n}" for n in range(3000))  # unclosed cells, 6,000 tags
    article = to_article(make_raw(content_html=f"<p>表<table>{rows}</table><p>完"), normalized_at=NORMALIZED_AT)
    assert article.body_text.split("\n")[:3] == ["表", "0 | 行0", "1 | 行1"]
