"""Article ids and content fingerprints.

An article id is the first 32 hex digits of a sha256 over a *kind* and its fields, each written as
a netstring (`<utf-8 length>:<bytes>,`), so no two different field lists hash the same input.
32 lowercase hex characters are a safe Kafka key and Elasticsearch `_id`.

The fallback chain (first that applies wins):
1. `url`     the canonical URL of the item's link (resolved against the feed or page base);
             the same story read from a feed and from a post folder gets the same id.
2. `guid`    the source's guid, scoped by the source id (guids are only unique per feed).
3. `title`   outlet + clean title + publication instant (UTC, ISO 8601) when the date parses.
4. `text`    outlet + clean title (maybe empty) + sha256 of the content, when there is content.
Nothing left (no link, guid, title or content): no id, and the item is skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import tzinfo

from pipeline.normalize.dates import parse_datetime, to_iso
from pipeline.normalize.html_text import inline_text
from pipeline.normalize.text import close_cjk_gaps
from pipeline.normalize.urls import canonical_url

ID_LENGTH = 32
ID_PATTERN = re.compile(r"[0-9a-f]{32}")


def _netstrings(fields: Iterable[str]) -> bytes:
    out = bytearray()
    for field in fields:
        encoded = field.encode("utf-8")
        out += b"%d:%s," % (len(encoded), encoded)
    return bytes(out)


def make_id(kind: str, *fields: str) -> str:
    """Id from a kind (url, guid, title, text) and its fields."""
    return hashlib.sha256(_netstrings((kind, *fields))).hexdigest()[:ID_LENGTH]


def fingerprint(*fields: str | None) -> str:
    """Full sha256 hex of a list of optional fields (None and "" are distinguished)."""
    return hashlib.sha256(_netstrings("\x00" if f is None else "\x01" + f for f in fields)).hexdigest()


def id_from_url(url: str) -> str:
    """Id of a story known by its canonical URL (pass it through `canonical_url` first)."""
    return make_id("url", url)


def item_id(
    *,
    url: str | None,
    base_url: str | None,
    guid: str | None,
    source_id: str,
    outlet: str,
    title: str | None,
    published: str | None,
    content: str | None,
    zone: tzinfo,
) -> str | None:
    """The article id of a raw item by the fallback chain above, or None when nothing identifies it."""
    canonical = canonical_url(url, base=base_url)
    if canonical:
        return id_from_url(canonical)
    if guid and guid.strip():
        return make_id("guid", source_id, guid.strip())
    # Without the spaces between CJK characters, as titles were cleaned when these ids were first made:
    # an id never changes with how a title is displayed.
    clean_title = close_cjk_gaps(inline_text(title)) if title else ""
    instant = parse_datetime(published, default=zone)
    if clean_title and instant is not None:
        return make_id("title", outlet, clean_title, to_iso(instant))
    if content and content.strip():
        return make_id("text", outlet, clean_title, hashlib.sha256(content.encode("utf-8")).hexdigest())
    if clean_title:
        return make_id("text", outlet, clean_title, "")
    return None
