"""RSS 0.9x / 1.0 / 2.0 and Atom feeds -> RawItems, with feedparser, from bytes only.

feedparser is only ever handed an in-memory stream: given a str or bytes it would treat them as a
URL or a file name and fetch or open it. Before it runs:
- the encoding is decided here (`charset.decode_xml`: BOM, declared, UTF-8, Chinese guess) and
  feedparser gets UTF-8 with a matching Content-Type, so its own guessing never applies;
- entity declarations and internal DTD subsets are refused (`xml_guard`), so nothing can expand.

A malformed feed that feedparser's lenient parser still reads is kept (with a warning); one that
yields nothing raises ParseError. Entries keep their raw HTML (titles too): normalizing is the
transform's job. An entry's <category> terms are its tags and its categories (the first is its
category), and its RSS <source> is the outlet it names. An entry over `max_item_bytes` is skipped
with a reason; entries past `max_items` are dropped and counted.
"""

from __future__ import annotations

import html
import io
import re
from datetime import datetime
from typing import Any

import feedparser
from pydantic import BaseModel, ConfigDict, Field

from pipeline.errors import ParseError
from pipeline.normalize.dates import source_zone
from pipeline.normalize.ids import fingerprint, item_id
from pipeline.normalize.urls import is_absolute_http
from pipeline.sources.charset import decode_xml
from pipeline.sources.xml_guard import refuse_entity_declarations
from schemas.models import RawItem, SourceInfo, Validators

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_EMAIL_AND_NAME = re.compile(r"\S+@\S+\s*\((?P<name>[^()]+)\)")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


class Skipped(BaseModel):
    """An entry that was left out, and why."""

    model_config = ConfigDict(frozen=True)

    position: int = Field(description="0-based position of the entry in the feed.")
    reason: str


class ParsedFeed(BaseModel):
    """What a feed gave: its items (at most `max_items`) and what was dropped, skipped or repaired."""

    model_config = ConfigDict(frozen=True)

    items: list[RawItem]
    dropped: int = Field(default=0, description="Entries past max_items, not returned.")
    skipped: list[Skipped] = Field(default_factory=list, description="Entries left out, with the reason.")
    feed_title: str | None = None
    feed_link: str | None = None
    feed_language: str | None = None
    ttl: int | None = Field(default=None, description="RSS <ttl>: minutes the feed may be cached.")
    format: str | None = Field(default=None, description="feedparser's version string, e.g. rss20, atom10.")
    encoding: str
    warnings: list[str] = Field(default_factory=list, description="Recovered problems (malformed XML, encoding).")


def _text_to_html(text: str) -> str:
    paragraphs = _PARAGRAPH_BREAK.split(text.strip())
    return "".join(f"<p>{html.escape(p.strip())}</p>" for p in paragraphs if p.strip())


def _content_html(entry: Any) -> str | None:
    """The entry's full content as HTML: the first HTML content block, else plain text escaped."""
    blocks = [block for block in entry.get("content") or [] if block.get("value")]
    if not blocks:
        return None
    for block in blocks:
        if (block.get("type") or "text/html").lower() in _HTML_TYPES:
            return str(block["value"])
    return _text_to_html(str(blocks[0]["value"]))


def _summary_html(entry: Any, content: str | None) -> str | None:
    summary = entry.get("summary")
    if not summary or summary == content:
        return None
    detail = entry.get("summary_detail") or {}
    if (detail.get("type") or "text/html").lower() == "text/plain":
        return _text_to_html(str(summary))
    return str(summary)


def _authors(entry: Any) -> list[str]:
    names: list[str] = []
    for author in entry.get("authors") or []:
        name = (author.get("name") or author.get("email") or "").strip()
        match = _EMAIL_AND_NAME.fullmatch(name)
        name = match["name"].strip() if match else name
        if name and name not in names:
            names.append(name)
    return names


def _tags(entry: Any) -> list[str]:
    terms = (tag.get("term") or tag.get("label") for tag in entry.get("tags") or [])
    return [text for term in terms if term and (text := str(term).strip())]


def _source_title(entry: Any) -> str | None:
    """The RSS <source> (the outlet an aggregated item comes from), or None."""
    source = entry.get("source") or {}
    title = source.get("title") if hasattr(source, "get") else None
    return str(title).strip() or None if title else None


def _ttl(feed: Any) -> int | None:
    value = str(feed.get("ttl") or "").strip()
    return int(value) if value.isdigit() else None


def _size(*values: str | None) -> int:
    return sum(len(value.encode("utf-8")) for value in values if value)


def _feedparser(text: str, base_url: str | None) -> Any:
    headers = {"content-type": "application/xml; charset=utf-8"}
    if base_url and is_absolute_http(base_url):
        headers["content-location"] = base_url
    return feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        response_headers=headers,
        resolve_relative_uris=True,
        sanitize_html=False,
    )


def _nothing_usable(result: Any) -> ParseError:
    problem = f": {result.get('bozo_exception')}" if result.get("bozo") else ""
    if not result.get("version"):
        return ParseError(f"not an RSS or Atom feed (no <rss>, <rdf:RDF> or <feed> root element){problem}")
    return ParseError(f"malformed {result['version']} feed, no entry could be recovered{problem}")


def parse(
    data: bytes,
    source: SourceInfo,
    *,
    fetched_at: datetime,
    base_url: str | None = None,
    validators: Validators | None = None,
    content_type: str | None = None,
    max_items: int = 5000,
    max_item_bytes: int = 2 * 1024 * 1024,
) -> ParsedFeed:
    """Items of a feed document. `base_url` is where it was fetched (resolves relative links);
    `content_type` is the HTTP Content-Type header, whose charset wins over the XML declaration."""
    if not data or data.isspace():
        raise ParseError("empty document: the source returned no feed")
    decoded = decode_xml(data, content_type)
    refuse_entity_declarations(decoded.text)
    result = _feedparser(decoded.text, base_url)
    entries = result.get("entries") or []
    if not entries and (result.get("bozo") or not result.get("version")):
        raise _nothing_usable(result)
    warnings = [decoded.note] if decoded.note else []
    if result.get("bozo"):
        warnings.append(f"malformed XML, read leniently: {result.get('bozo_exception')}")
    feed = result.get("feed") or {}
    feed_link = feed.get("link") if is_absolute_http(feed.get("link")) else None
    language = feed.get("language") or None
    item_base = base_url or feed_link
    items: list[RawItem] = []
    skipped: list[Skipped] = []
    for position, entry in enumerate(entries[:max_items]):
        outcome = _item(entry, source, fetched_at, item_base, language, validators or Validators(), max_item_bytes)
        if isinstance(outcome, str):
            skipped.append(Skipped(position=position, reason=outcome))
        else:
            items.append(outcome)
    return ParsedFeed(
        items=items,
        dropped=max(0, len(entries) - max_items),
        skipped=skipped,
        feed_title=feed.get("title") or None,
        feed_link=feed_link,
        feed_language=language,
        ttl=_ttl(feed),
        format=result.get("version") or None,
        encoding=decoded.encoding,
        warnings=warnings,
    )


def _item(
    entry: Any,
    source: SourceInfo,
    fetched_at: datetime,
    base_url: str | None,
    language: str | None,
    validators: Validators,
    max_item_bytes: int,
) -> RawItem | str:
    """The RawItem of one entry, or the reason it is skipped."""
    title = entry.get("title") or None
    content = _content_html(entry)
    summary = _summary_html(entry, content)
    size = _size(title, content, summary)
    guid = entry.get("id") or None
    if size > max_item_bytes:
        return f"entry {guid or title or ''!r:.80} is {size} bytes, over the limit of {max_item_bytes}"
    link = entry.get("link") or None
    published = entry.get("published") or None
    # dict.get: FeedParserDict.get("updated") falls back to `published` (a deprecated shim).
    updated = dict.get(entry, "updated") or None
    identifier = item_id(
        url=link,
        base_url=base_url,
        guid=guid,
        source_id=source.id,
        outlet=source.outlet or source.id,
        title=title,
        published=published or updated,
        content=content or summary,
        zone=source_zone(source, language),
    )
    if identifier is None:
        return "entry has no link, guid, title or content: nothing identifies it"
    tags = _tags(entry)
    authors = _authors(entry)
    outlet = _source_title(entry)
    return RawItem(
        item_id=identifier,
        source=source,
        fetched_at=fetched_at,
        url=link,
        base_url=base_url,
        guid=guid,
        title=title,
        published=published,
        updated=updated,
        content_html=content,
        summary_html=summary,
        tags=tags,
        categories=tags,
        category=tags[0] if tags else None,
        outlet=outlet,
        authors=authors,
        language=language,
        content_hash=fingerprint(
            title, link, guid, published, updated, content, summary, "\x1f".join(tags), *([outlet] if outlet else [])
        ),
        validators=validators,
    )
