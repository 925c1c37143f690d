"""Metadata of web pages, table-driven: title, dates, authors, canonical URL, language, site name."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_article

URL = "https://news.example.com/2022/05/05/story.html?utm_source=feed"
BODY = (
    "<article><p>"
    + "正文内容，用于测试元数据的提取。" * 6
    + "</p><p>"
    + "第二段正文，继续测试。" * 6
    + "</p></article>"
)
EN_BODY = "<article><p>" + "A paragraph of plain English prose for the test. " * 5 + "</p></article>"


def page(head: str = "", body: str = BODY, lang: str = "") -> str:
    return f"<html{lang}><head>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("html", "title"),
    [
        (page('<meta property="og:title" content="OG 标题"><title>标签 - 站点</title>'), "OG 标题"),
        (page("<title>一季度规模以上工业企业利润稳步增长-新华网</title>"), "一季度规模以上工业企业利润稳步增长"),
        (
            page("<title>跨境电商综试区再扩容 外贸新业态加速发展|跨境电商_新浪财经_新浪网</title>"),
            "跨境电商综试区再扩容 外贸新业态加速发展",
        ),
        (page("<title>Asian shares edge up | Markets Wire</title>"), "Asian shares edge up"),
        (page("<title>Site</title>", "<h1>港交所公布业绩</h1>" + BODY), "港交所公布业绩"),
        (page("<title>港交所公布业绩_东方财富网</title>", "<h1>港交所公布业绩</h1>" + BODY), "港交所公布业绩"),
        (page('<script type="application/ld+json">{"@type":"NewsArticle","headline":"LD 标题"}</script>'), "LD 标题"),
        (page("", "<h1>Only a heading</h1>" + EN_BODY), "Only a heading"),
        (page('<meta property="og:title" content="Story &amp; more — The Site">'), "Story & more"),
        (page(), None),
    ],
)
def test_title(html: str, title: str | None) -> None:
    assert extract_article(html, url=URL).title == title


@pytest.mark.parametrize(
    ("html", "published", "updated"),
    [
        (
            page(
                '<meta property="article:published_time" content="2022-05-05T10:39:00+08:00">'
                '<meta property="article:modified_time" content="2022-05-05T12:00:00+08:00">'
            ),
            "2022-05-05T10:39:00+08:00",
            "2022-05-05T12:00:00+08:00",
        ),
        # JSON-LD wins, also inside @graph, and keeps the page's own offset
        (
            page(
                '<script type="application/ld+json">{"@graph":[{"@type":"WebSite","name":"S"},'
                '{"@type":["NewsArticle"],"datePublished":"2022-06-14T06:00:00-04:00",'
                '"dateModified":"2022-06-14T09:30:00-04:00"}]}</script>'
                '<meta property="article:published_time" content="2020-01-01T00:00:00Z">'
            ),
            "2022-06-14T06:00:00-04:00",
            "2022-06-14T09:30:00-04:00",
        ),
        (
            page('<meta property="article:published_time" content="2022-05-10T03:12:00Z">'),
            "2022-05-10T03:12:00+00:00",
            None,
        ),
        # a naive date of a Chinese page is Beijing time
        (page('<meta name="publishdate" content="2022-05-05 10:39:20">'), "2022-05-05T10:39:20+08:00", None),
        (page('<meta itemprop="datePublished" content="2022-05-05T10:39">'), "2022-05-05T10:39:00+08:00", None),
        (page("", '<time datetime="2022-05-05T02:39:00Z">5 May</time>' + BODY), "2022-05-05T02:39:00+00:00", None),
        # date lines of Chinese templates
        (
            page("", '<div class="info">2022-05-05 10:39 来源：21世纪经济报道</div>' + BODY),
            "2022-05-05T10:39:00+08:00",
            None,
        ),
        (
            page("", "<div>2022年05月05日 10:39</div><div>来源：新浪财经</div>" + BODY),
            "2022-05-05T10:39:00+08:00",
            None,
        ),
        (
            page("", "<div><span>2022</span> <span>04/28</span> <span>09:41:07</span></div>" + BODY),
            "2022-04-28T09:41:07+08:00",
            None,
        ),
        # a date line with a time beats a date alone in the metadata
        (
            page('<meta name="publishdate" content="2022-08-15">', "<div>来源：新华网 2022-08-15 14:21</div>" + BODY),
            "2022-08-15T14:21:00+08:00",
            None,
        ),
        (page('<meta name="publishdate" content="2022-08-15">'), "2022-08-15T00:00:00+08:00", None),
        # English pages: a naive date is UTC; nonsense is no date
        (
            page('<meta property="article:published_time" content="2022-05-10 03:12">', EN_BODY),
            "2022-05-10T03:12:00+00:00",
            None,
        ),
        (page('<meta property="article:published_time" content="yesterday">', EN_BODY), None, None),
        (page('<meta property="article:published_time" content="1970-01-01T00:00:00Z">', EN_BODY), None, None),
        (page(), None, None),
    ],
)
def test_dates(html: str, published: str | None, updated: str | None) -> None:
    extracted = extract_article(html, url=URL)
    assert (extracted.published, extracted.updated) == (published, updated)


@pytest.mark.parametrize(
    ("html", "authors"),
    [
        (
            page(
                '<script type="application/ld+json">{"@type":"NewsArticle","author":[{"@type":"Person","name":"张明"},'
                '{"@type":"Person","name":"刘晓"}]}</script>'
            ),
            ["张明", "刘晓"],
        ),
        (
            page(
                '<script type="application/ld+json">{"@type":"NewsArticle","author":{"name":"Maria Lopez"}}</script>',
                EN_BODY,
            ),
            ["Maria Lopez"],
        ),
        (
            page('<meta name="author" content="Ann Saphir"><meta name="author" content="Wayne Cole">', EN_BODY),
            ["Ann Saphir", "Wayne Cole"],
        ),
        (page('<meta name="author" content="By Jane Doe and John Roe">', EN_BODY), ["Jane Doe", "John Roe"]),
        (page('<meta name="author" content="By: Jane Doe, Zoë Ångström">', EN_BODY), ["Jane Doe", "Zoë Ångström"]),
        (page('<meta name="author" content="张明 刘晓">'), ["张明", "刘晓"]),
        (page("", "<div>来源：证券时报网 作者：李明 2022-04-29 21:08</div>" + BODY), ["李明"]),
        # an organisation gives way to the person the byline names
        (
            page(
                '<meta property="article:author" content="21世纪经济报道">',
                "<article><p>21世纪经济报道记者 王峰 北京报道</p>" + BODY[9:],
            ),
            ["王峰"],
        ),
        (page('<meta name="author" content="东方财富网">'), ["东方财富网"]),
        (page('<meta property="article:author" content="https://www.facebook.com/someone">', EN_BODY), []),
        (page(), []),
    ],
)
def test_authors(html: str, authors: list[str]) -> None:
    assert list(extract_article(html, url=URL).authors) == authors


@pytest.mark.parametrize(
    ("head", "canonical"),
    [
        ('<link rel="canonical" href="https://news.example.com/a/1.html">', "https://news.example.com/a/1.html"),
        ('<link rel="canonical" href="/a/1.html?utm_medium=x">', "https://news.example.com/a/1.html"),
        ('<link rel="canonical" href="//news.example.com/a/1.html">', "https://news.example.com/a/1.html"),
        ('<meta property="og:url" content="https://news.example.com/a/2.html">', "https://news.example.com/a/2.html"),
        ('<link rel="canonical" href="https://news.example.com/">', None),  # every page's canonical is the home page
        ('<link rel="canonical" href="javascript:void(0)">', None),
        ("", None),
    ],
)
def test_canonical_url(head: str, canonical: str | None) -> None:
    assert extract_article(page(head), url=URL).canonical_url == canonical


@pytest.mark.parametrize(
    ("html", "hint", "language"),
    [
        (page(), None, "zh"),
        (page("", EN_BODY), None, "en"),
        (page("", EN_BODY, lang=' lang="zh-CN"'), None, "en"),  # the text beats a template's declaration
        (page("", "<p>Kurz.</p>", lang=' lang="de"'), None, "de"),  # too short to tell: the declaration
        (page("", "<p>Kurz.</p>"), "fr", "fr"),  # nor declared: the caller's hint
        (page("", "<p>?</p>"), None, "und"),
    ],
)
def test_language(html: str, hint: str | None, language: str) -> None:
    assert extract_article(html, url=URL, language_hint=hint).language == language


@pytest.mark.parametrize(
    ("head", "site"),
    [
        ('<meta property="og:site_name" content="每经网">', "每经网"),
        (
            '<script type="application/ld+json">{"@type":"NewsArticle","publisher":{"name":"The Ledger"}}</script>',
            "The Ledger",
        ),
        ("<title>标题 - 中国日报网</title>", "中国日报网"),
        ("<title>No suffix here</title>", None),
    ],
)
def test_site_name(head: str, site: str | None) -> None:
    assert extract_article(page(head), url=URL).site_name == site


def test_description_and_notes() -> None:
    extracted = extract_article(page('<meta name="description" content="  摘要 内容 "><title>T-站</title>'), url=URL)
    assert extracted.description == "摘要 内容"
    assert "title from <title>" in extracted.notes
    assert "canonical URL: none declared" in extracted.notes
