"""Sitemap documents -> what they list (pure): index files, url sets, gzip, news sitemaps, hostile XML."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from pipeline.errors import ParseError
from pipeline.normalize.ids import id_from_url
from pipeline.sources import sitemap
from schemas.models import SourceInfo, SourceType

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://news.example/sitemap-news.xml.gz</loc><lastmod>2024-06-05T10:00:00+08:00</lastmod></sitemap>
  <sitemap><loc>https://news.example/sitemap-2024-05.xml</loc></sitemap>
  <sitemap><lastmod>2024-06-01</lastmod></sitemap>
</sitemapindex>"""

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://news.example/finance/2024-06-05/wealth-connect.html?from=sitemap</loc>
    <lastmod>2024-06-05T10:45:00+08:00</lastmod>
    <news:news>
      <news:publication><news:name>财经频道</news:name><news:language>zh</news:language></news:publication>
      <news:publication_date>2024-06-05T10:39:00+08:00</news:publication_date>
      <news:title>粤港澳大湾区跨境理财通业务试点扩容</news:title>
      <news:keywords>跨境理财通, 大湾区 ,金融开放</news:keywords>
    </news:news>
  </url>
  <url><loc>/business/plain-page</loc></url>
  <url><lastmod>2024-06-01</lastmod></url>
</urlset>""".encode()

SOURCE = SourceInfo(id="news-sitemap", type=SourceType.SITEMAP, outlet="财经频道", category="finance")
NOW = datetime(2024, 6, 5, 12, tzinfo=UTC)


def test_an_index_lists_its_sitemaps() -> None:
    parsed = sitemap.parse(INDEX)
    assert parsed.kind == "index" and parsed.skipped == 1
    assert parsed.sitemaps == [
        sitemap.SitemapRef("https://news.example/sitemap-news.xml.gz", "2024-06-05T10:00:00+08:00"),
        sitemap.SitemapRef("https://news.example/sitemap-2024-05.xml", None),
    ]


@pytest.mark.parametrize("compress", [False, True])
def test_a_news_sitemap_lists_pages_with_their_news_metadata(compress: bool) -> None:
    parsed = sitemap.parse(gzip.compress(NEWS) if compress else NEWS)
    assert parsed.kind == "urlset" and parsed.skipped == 1 and len(parsed.pages) == 2
    news = parsed.pages[0]
    assert news.title == "粤港澳大湾区跨境理财通业务试点扩容"
    assert news.published == "2024-06-05T10:39:00+08:00" and news.lastmod == "2024-06-05T10:45:00+08:00"
    assert news.keywords == ("跨境理财通", "大湾区", "金融开放") and news.language == "zh"
    assert news.publication == "财经频道"


def test_a_listed_page_becomes_an_item_without_content_keyed_by_its_canonical_url() -> None:
    news, plain = sitemap.parse(NEWS).pages
    item = sitemap.entry_item(news, SOURCE, fetched_at=NOW, base_url="https://news.example/sitemap-news.xml.gz")
    assert item is not None
    assert item.item_id == id_from_url("https://news.example/finance/2024-06-05/wealth-connect.html")
    assert (item.title, item.published, item.updated) == (news.title, news.published, news.lastmod)
    assert item.tags == ["跨境理财通", "大湾区", "金融开放"] and item.content_html is None
    relative = sitemap.entry_item(plain, SOURCE, fetched_at=NOW, base_url="https://news.example/sitemap.xml")
    assert relative is not None and relative.url == "/business/plain-page"
    assert relative.item_id == id_from_url("https://news.example/business/plain-page")
    moved = sitemap.entry_item(
        sitemap.PageEntry(news.loc, "2024-06-06T00:00:00Z", news.title), SOURCE, fetched_at=NOW, base_url=news.loc
    )
    assert moved is not None and moved.item_id == item.item_id and moved.content_hash != item.content_hash


@pytest.mark.parametrize(
    ("lastmod", "than", "newer"),
    [
        ("2024-06-05", None, True),
        ("2024-06-05", "2024-06-05", False),
        ("2024-06-06T00:00:00Z", "2024-06-05T23:00:00+08:00", True),
        ("2024-06-05T08:00:00+08:00", "2024-06-05T01:00:00Z", False),
        (None, "2024-06-05", False),
        ("soon", "2024-06-05", True),
    ],
)
def test_newer_lastmod(lastmod: str | None, than: str | None, newer: bool) -> None:
    assert sitemap.is_newer(lastmod, than) is newer


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaa">]><urlset><url><loc>&a;</loc></url></urlset>', "entit"),
        (b"<rss><channel/></rss>", "not a sitemap"),
        (b"<urlset><url><loc>x</url>", "malformed"),
        (b"   ", "empty"),
        (gzip.compress(b"<urlset>" + b" " * 200_000 + b"</urlset>"), "cap"),
        (b"\x1f\x8bnot really gzip", "inflate"),
    ],
)
def test_hostile_or_broken_documents_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        sitemap.parse(data, max_bytes=100_000)
