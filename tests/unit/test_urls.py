from __future__ import annotations

import pytest

from pipeline.normalize.urls import canonical_url, is_absolute_http, is_tracking_param

SEED_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (SEED_URL, None, SEED_URL),
        # scheme and host lowercased, path and query case kept
        ("HTTP://FiNews.ZNING.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688", None, SEED_URL),
        # fragments and tracking parameters dropped, meaningful ones kept
        (SEED_URL + "#comments", None, SEED_URL),
        (SEED_URL + "&utm_source=rss&utm_medium=feed&utm_campaign=x", None, SEED_URL),
        (SEED_URL + "&fbclid=abc&gclid=def&spm=a1.b2&from=timeline&isappinstalled=0", None, SEED_URL),
        ("http://finews.zning.xyz/html_News/NewsShare.html?utm_source=x&infoCode=NW202205052369313688", None, SEED_URL),
        ("https://ex.com/a?UTM_Source=x&id=7", None, "https://ex.com/a?id=7"),
        ("https://ex.com/a?mc_cid=1&mc_eid=2&_ga=3&msclkid=4&yclid=5", None, "https://ex.com/a"),
        ("https://ex.com/a?page=2&sort=new", None, "https://ex.com/a?page=2&sort=new"),
        ("https://ex.com/a?b=2&a=1", None, "https://ex.com/a?b=2&a=1"),
        ("https://ex.com/a?", None, "https://ex.com/a"),
        ("https://ex.com/a?flag", None, "https://ex.com/a?flag"),
        # default ports, empty path, trailing dot, credentials
        ("http://ex.com:80/a", None, "http://ex.com/a"),
        ("https://ex.com:443/a", None, "https://ex.com/a"),
        ("https://ex.com:8443/a", None, "https://ex.com:8443/a"),
        ("https://ex.com", None, "https://ex.com/"),
        ("https://ex.com./a", None, "https://ex.com/a"),
        ("https://user:secret@ex.com/a", None, "https://ex.com/a"),
        # protocol-relative becomes https
        ("//finews.withounder.com/", None, "https://finews.withounder.com/"),
        ("//cdn.ex.com/x.html", "http://ex.com/feed", "https://cdn.ex.com/x.html"),
        # relative links resolve against the base
        ("/news/1.html", "https://ex.com/feed/rss.xml", "https://ex.com/news/1.html"),
        ("two.html", "https://ex.com/feed/rss.xml", "https://ex.com/feed/two.html"),
        ("../up.html", "https://ex.com/a/b/feed.xml", "https://ex.com/a/up.html"),
        ("?id=3", "https://ex.com/list", "https://ex.com/list?id=3"),
        ("/x", "//ex.com/feed", "https://ex.com/x"),
        # escaping: non-ASCII and spaces escaped, escapes uppercased, wrapped links joined
        ("https://ex.com/新闻/1", None, "https://ex.com/%E6%96%B0%E9%97%BB/1"),
        ("https://ex.com/%e6%96%b0%e9%97%bb/1", None, "https://ex.com/%E6%96%B0%E9%97%BB/1"),
        ("https://ex.com/a b", None, "https://ex.com/a%20b"),
        ("https://ex.com/a?q=中文", None, "https://ex.com/a?q=%E4%B8%AD%E6%96%87"),
        ("  https://ex.com/long\n    /path  ", None, "https://ex.com/long/path"),
        ("https://例子.中国/a", None, "https://xn--fsqu00a.xn--fiqs8s/a"),
        ("http://[2001:db8::1]:80/a", None, "http://[2001:db8::1]/a"),
    ],
)
def test_canonical_url(url: str, base: str | None, expected: str) -> None:
    assert canonical_url(url, base=base) == expected


@pytest.mark.parametrize(
    ("url", "base"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("javascript:alert(1)", None),
        ("mailto:news@ex.com", None),
        ("data:text/html,hi", None),
        ("ftp://ex.com/file", None),
        ("urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a", None),
        ("/relative/without/base", None),
        ("http://", None),
        ("http://ex.com:99999/", None),
        ("file:///etc/passwd", None),
    ],
)
def test_not_a_web_link(url: str | None, base: str | None) -> None:
    assert canonical_url(url, base=base) is None


@pytest.mark.parametrize(
    "url",
    [SEED_URL, "https://ex.com/a?b=1", "//ex.com/x", "https://ex.com/新闻?q=中 文#f"],
)
def test_canonical_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert once is not None
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("name", "tracking"),
    [
        ("utm_source", True),
        ("utm_anything", True),
        ("UTM_MEDIUM", True),
        ("fbclid", True),
        ("gclid", True),
        ("spm", True),
        ("from", True),
        ("pk_campaign", True),
        ("infoCode", False),
        ("id", False),
        ("page", False),
        ("ref", False),
        ("source", False),
    ],
)
def test_is_tracking_param(name: str, tracking: bool) -> None:
    assert is_tracking_param(name) is tracking


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a", True),
        ("HTTP://a", True),
        ("//a/b", True),
        ("/a", False),
        ("urn:x", False),
        (None, False),
        ("", False),
    ],
)
def test_is_absolute_http(url: str | None, expected: bool) -> None:
    assert is_absolute_http(url) is expected
