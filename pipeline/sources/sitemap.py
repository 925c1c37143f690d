"""Sitemaps -> the pages they list (pure): sitemap index files, url sets, gzip, and Google News sitemaps.

- A document is a `<sitemapindex>` (other sitemaps, with their `lastmod`) or a `<urlset>` (pages with
  `lastmod`, and for news sitemaps `news:title`, `news:publication_date`, `news:keywords`,
  `news:language`). Elements are matched by local name, so the sitemaps 0.9 namespace, none, or
  another version all read.
- gzip (by its magic bytes, whatever the URL or Content-Type says) is inflated here, in bounded pieces
  and at most `max_bytes` of it (a gzip bomb stops at the cap).
- Hostile XML is refused as feeds are: entity declarations and DTD subsets (`xml_guard`), and the parser
  itself is defusedxml's.
- `entry_item` turns one listed page into a RawItem with no content: its page is fetched by the fetch stage.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from pipeline.errors import ParseError
from pipeline.normalize.dates import parse_datetime, source_zone
from pipeline.normalize.ids import fingerprint, item_id
from pipeline.normalize.urls import canonical_url
from pipeline.sources.charset import decode_xml
from pipeline.sources.xml_guard import refuse_entity_declarations
from schemas.models import RawItem, SourceInfo

_PIECE = 64 * 1024


@dataclass(frozen=True)
class SitemapRef:
    loc: str
    lastmod: str | None = None


@dataclass(frozen=True)
class PageEntry:
    loc: str
    lastmod: str | None = None
    title: str | None = None
    published: str | None = None
    keywords: tuple[str, ...] = ()
    language: str | None = None
    publication: str | None = None


@dataclass(frozen=True)
class Sitemap:
    kind: str  # "index" or "urlset"
    sitemaps: list[SitemapRef] = field(default_factory=list)
    pages: list[PageEntry] = field(default_factory=list)
    skipped: int = 0  # entries without a usable <loc>


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """`data` inflated if it is gzip (else as is), refusing more than `max_bytes` of output."""
    if not data.startswith(b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = data
    try:
        while pending and not inflater.eof:
            piece = inflater.decompress(pending, _PIECE)
            out += piece
            if len(out) > max_bytes:
                raise ParseError(f"the gzip sitemap inflates to more than the cap of {max_bytes} bytes")
            pending = inflater.unconsumed_tail
    except zlib.error as exc:
        raise ParseError(f"the gzip sitemap does not inflate: {exc}") from None
    return bytes(out)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: Element, *path: str) -> str | None:
    node: Element | None = element
    for name in path:
        node = next((child for child in node if _local(child.tag) == name), None) if node is not None else None
    text = (node.text or "").strip() if node is not None else ""
    return text or None


def parse(data: bytes, *, max_bytes: int = 50 * 1024 * 1024) -> Sitemap:
    """The sitemaps or pages a sitemap document lists. Raises ParseError for what is not a sitemap."""
    raw = gunzip(data, max_bytes)
    if not raw.strip():
        raise ParseError("empty document: the source returned no sitemap")
    text = decode_xml(raw).text
    refuse_entity_declarations(text)
    try:
        root = ElementTree.fromstring(text.encode("utf-8"), forbid_dtd=True)
    except DefusedXmlException as exc:
        raise ParseError(f"refused: {exc}") from None
    except ElementTree.ParseError as exc:
        raise ParseError(f"malformed sitemap XML: {exc}") from None
    kind = _local(root.tag)
    if kind == "sitemapindex":
        refs = [SitemapRef(loc, _child_text(node, "lastmod")) for node in root if (loc := _child_text(node, "loc"))]
        return Sitemap("index", sitemaps=refs, skipped=sum(1 for _ in root) - len(refs))
    if kind != "urlset":
        raise ParseError(f"not a sitemap (root element <{kind or '?'}>, expected <urlset> or <sitemapindex>)")
    pages: list[PageEntry] = []
    skipped = 0
    for node in root:
        loc = _child_text(node, "loc")
        if not loc:
            skipped += 1
            continue
        keywords = _child_text(node, "news", "keywords") or ""
        pages.append(
            PageEntry(
                loc=loc,
                lastmod=_child_text(node, "lastmod"),
                title=_child_text(node, "news", "title"),
                published=_child_text(node, "news", "publication_date"),
                keywords=tuple(k.strip() for k in keywords.split(",") if k.strip()),
                language=_child_text(node, "news", "publication", "language"),
                publication=_child_text(node, "news", "publication", "name"),
            )
        )
    return Sitemap("urlset", pages=pages, skipped=skipped)


def is_newer(lastmod: str | None, than: str | None) -> bool:
    """True when `lastmod` is a later time than `than` (both as sitemaps write them); unreadable counts as changed."""
    if than is None:
        return True
    if lastmod is None or lastmod == than:
        return False
    new, old = parse_datetime(lastmod), parse_datetime(than)
    return new is None or old is None or new > old


def entry_item(entry: PageEntry, source: SourceInfo, *, fetched_at: datetime, base_url: str) -> RawItem | None:
    """The raw item of one listed page (no content: the fetch stage reads the page), or None without a link."""
    url = canonical_url(entry.loc, base=base_url)
    if url is None:
        return None
    language = source.language or entry.language
    identifier = item_id(
        url=url,
        base_url=base_url,
        guid=None,
        source_id=source.id,
        outlet=source.outlet or source.id,
        title=entry.title,
        published=entry.published,
        content=None,
        zone=source_zone(source, language),
    )
    assert identifier is not None  # a URL always gives an id
    return RawItem(
        item_id=identifier,
        source=source,
        fetched_at=fetched_at,
        url=entry.loc,
        base_url=base_url,
        title=entry.title,
        published=entry.published,
        updated=entry.lastmod,
        tags=list(entry.keywords),
        language=entry.language,
        content_hash=fingerprint(url, entry.lastmod, entry.title, entry.published, "\x1f".join(entry.keywords)),
    )
