from __future__ import annotations

import hashlib
from datetime import UTC, timedelta, timezone
from typing import Any

import pytest

from pipeline.normalize.ids import ID_PATTERN, fingerprint, id_from_url, item_id, make_id

SEED_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688"
CST = timezone(timedelta(hours=8))


def netstring_sha(*fields: str) -> str:
    """The documented id scheme, written out independently of the code under test."""
    data = b"".join(b"%d:%s," % (len(f.encode()), f.encode()) for f in fields)
    return hashlib.sha256(data).hexdigest()[:32]


def chain(**overrides: Any) -> str | None:
    fields: dict[str, Any] = {
        "url": None,
        "base_url": None,
        "guid": None,
        "source_id": "src",
        "outlet": "Outlet",
        "title": None,
        "published": None,
        "content": None,
        "zone": UTC,
    }
    fields.update(overrides)
    return item_id(**fields)


def test_id_follows_the_documented_scheme() -> None:
    assert id_from_url(SEED_URL) == netstring_sha("url", SEED_URL)
    assert make_id("guid", "src", "g-1") == netstring_sha("guid", "src", "g-1")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("ab", "c"), ("a", "bc")),
        (("a", ""), ("a",)),
        (("", "a"), ("a", "")),
        (("a:b",), ("a", "b")),
    ],
)
def test_field_boundaries_cannot_collide(a: tuple[str, ...], b: tuple[str, ...]) -> None:
    assert make_id("k", *a) != make_id("k", *b)


@pytest.mark.parametrize(
    "fields",
    [
        ("url", SEED_URL),
        ("guid", "s", "NW1"),
        ("title", "21世纪经济报道", "标题", "2022-05-05T13:38:33Z"),
        ("text", "", "", ""),
    ],
)
def test_ids_are_safe_kafka_keys_and_es_ids(fields: tuple[str, ...]) -> None:
    value = make_id(*fields)
    assert ID_PATTERN.fullmatch(value)
    assert value.isascii() and len(value.encode()) <= 512


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # 1. the canonical URL wins over everything else
        ({"url": SEED_URL, "guid": "g", "title": "t"}, netstring_sha("url", SEED_URL)),
        ({"url": SEED_URL + "&utm_source=rss#top"}, netstring_sha("url", SEED_URL)),
        ({"url": "/a/1.html", "base_url": "https://ex.com/feed"}, netstring_sha("url", "https://ex.com/a/1.html")),
        ({"url": "//ex.com/a"}, netstring_sha("url", "https://ex.com/a")),
        # 2. a guid, scoped by the source, when the link is missing or not a web link
        ({"guid": "NW1", "title": "t"}, netstring_sha("guid", "src", "NW1")),
        ({"url": "urn:uuid:1", "guid": " urn:uuid:1 "}, netstring_sha("guid", "src", "urn:uuid:1")),
        ({"url": "/relative-without-base", "guid": "g"}, netstring_sha("guid", "src", "g")),
        # 3. outlet + clean title + UTC instant
        (
            {"title": "<b>标题</b>", "published": "2022-05-05 21:38:33 +0800"},
            netstring_sha("title", "Outlet", "标题", "2022-05-05T13:38:33Z"),
        ),
        (
            {"title": "标题", "published": "2022-05-05 21:38:33", "zone": CST},
            netstring_sha("title", "Outlet", "标题", "2022-05-05T13:38:33Z"),
        ),
        # 4. outlet + title + content digest when the date is missing or unreadable
        (
            {"title": "t", "published": "not a date", "content": "<p>x</p>"},
            netstring_sha("text", "Outlet", "t", hashlib.sha256(b"<p>x</p>").hexdigest()),
        ),
        (
            {"content": "<p>only content</p>"},
            netstring_sha("text", "Outlet", "", hashlib.sha256(b"<p>only content</p>").hexdigest()),
        ),
        ({"title": "title only"}, netstring_sha("text", "Outlet", "title only", "")),
        # A space between CJK characters is not part of a title's identity (ids made before titles kept it).
        (
            {"title": "外贸新业态 跨境电商", "published": "2022-05-05T13:38:33Z"},
            netstring_sha("title", "Outlet", "外贸新业态跨境电商", "2022-05-05T13:38:33Z"),
        ),
    ],
)
def test_fallback_chain(overrides: dict[str, Any], expected: str) -> None:
    assert chain(**overrides) == expected


@pytest.mark.parametrize(
    "overrides",
    [{}, {"guid": "   "}, {"title": "<script>x</script>"}, {"content": "  "}, {"url": "javascript:void(0)"}],
)
def test_nothing_identifies_the_item(overrides: dict[str, Any]) -> None:
    assert chain(**overrides) is None


def test_same_story_from_a_feed_and_a_folder_gets_one_id() -> None:
    from_feed = chain(url=SEED_URL + "&utm_source=rss", guid="feed-guid", source_id="feed", title="Feed title")
    from_post = chain(url=SEED_URL, source_id="folder", title="Post title", published="2022-05-05 21:38:33 +0800")
    assert from_feed == from_post == id_from_url(SEED_URL)


def test_guid_is_scoped_by_source() -> None:
    assert chain(guid="1", source_id="a") != chain(guid="1", source_id="b")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("x", None), ("x", "")),
        (("ab", "c"), ("a", "bc")),
        ((None,), ("",)),
    ],
)
def test_fingerprint_distinguishes(a: tuple[str | None, ...], b: tuple[str | None, ...]) -> None:
    assert fingerprint(*a) != fingerprint(*b)


def test_fingerprint_is_stable_sha256() -> None:
    assert fingerprint("a", None) == fingerprint("a", None)
    assert len(fingerprint("a")) == 64
