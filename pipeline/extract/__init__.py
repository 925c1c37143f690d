"""Article extraction from full web pages: `extract_article(html, url=...) -> ExtractedPage`.

A pure function (decoded HTML in, a value out: no I/O), fast, and safe on hostile input: the HTML is
capped at `MAX_HTML_CHARS`, the DOM is walked without recursion, regular expressions only ever see short
lines, JSON-LD is bounded, and any unexpected failure becomes an empty page with a note instead of an
exception. Bodies that are already clean HTML (a feed's `content:encoded`, a post) do not need this:
`pipeline.normalize.html_text` is the fast path for them.

How the article is found (see `content`), which lines around it are dropped (`trailers`) and where each
piece of metadata comes from (`metadata`) are documented in those modules; docs/extraction.md has the
measurement that chose this extractor.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from pipeline.extract import content, metadata
from pipeline.extract.blocks import Block, Tree, page_blocks
from pipeline.extract.page import ExtractedPage
from pipeline.extract.trailers import LEAD_WINDOW, editor_of, trim
from pipeline.normalize.language import detect_language
from pipeline.normalize.text import clean_inline, clean_lines

__all__ = ["MAX_HTML_CHARS", "ExtractedPage", "extract_article"]

MAX_HTML_CHARS = 4_000_000  # beyond this a page is cut (the fetcher's byte cap usually comes first)
MAX_DEPTH = 1_000  # nesting beyond this is cut: the HTML parser's time grows with the square of the depth
DEPTH_CHECK_TAGS = 20_000  # pages with fewer tags than this cannot nest deep enough to matter
HEADER_BLOCKS = 40  # blocks before the article searched for date and author lines
FOOTER_BLOCKS = 10  # blocks after the article searched for an editor line (`【责任编辑：潘莉莉】`)
LANGUAGE_SAMPLE = 2_000


def extract_article(html: str, *, url: str, language_hint: str | None = None) -> ExtractedPage:
    """The article of one web page: text paragraphs and metadata, with notes on what was guessed."""
    try:
        return _extract(html, url, language_hint)
    except Exception as exc:  # noqa: BLE001 - a page must never crash the caller: the note says why
        return ExtractedPage(url=url, notes=(f"extraction failed: {type(exc).__name__}: {exc}",))


def _extract(html: str, url: str, language_hint: str | None) -> ExtractedPage:
    notes: list[str] = []
    if len(html) > MAX_HTML_CHARS:
        notes.append(f"page cut at {MAX_HTML_CHARS} characters (it has {len(html)})")
        html = html[:MAX_HTML_CHARS]
    html, cut = _bounded_depth(html)
    if cut:
        notes.append(f"page cut where its elements nest deeper than {MAX_DEPTH}")
    document = LexborHTMLParser(html)
    head = metadata.read_head(document)
    body = document.body
    blocks, tree = page_blocks(body) if body is not None else ([], Tree({}, {}))
    selection = content.select(blocks, tree)
    if not selection.container_found:
        notes.append("no article container found: kept all non-link text")

    headings = [clean_inline(block.text) for block in blocks if block.tag == "h1"][:5]
    title, title_origin = metadata.choose_title(head, headings)
    notes.append(f"title from {title_origin}")

    paragraphs: list[str] = []
    forms: list[str] = []
    for block in selection.blocks:
        cleaned = clean_lines(block.text.replace("\n", " "))
        if cleaned:
            paragraphs.append(cleaned)
            forms.append(clean_inline(block.text))
    trimmed = trim(paragraphs, title=title, forms=forms)
    notes.extend(f"dropped {line}" for line in trimmed.dropped)
    editor = trimmed.editor or _editor_after(blocks, selection.last)

    text = "\n".join(trimmed.paragraphs)
    declared = metadata.declared_language(head)
    language = detect_language(text[:LANGUAGE_SAMPLE] or title or "", hint=declared or language_hint)

    header = [clean_inline(block.text) for block in blocks[max(0, selection.first - HEADER_BLOCKS) : selection.first]]
    region = header + paragraphs[:LEAD_WINDOW]
    published, updated, date_origin = metadata.choose_dates(head, region, language)
    notes.append(f"published from {date_origin}")
    site = metadata.site_name(head)
    authors = metadata.choose_authors(head, header, trimmed.authors, site)
    canonical, canonical_origin = metadata.choose_canonical(head, url)
    notes.append(f"canonical URL: {canonical_origin}")
    description = head.first("description", "og:description", "twitter:description") or head.json_ld.description

    return ExtractedPage(
        url=url,
        title=title,
        paragraphs=tuple(trimmed.paragraphs),
        authors=tuple(authors),
        published=published,
        updated=updated,
        canonical_url=canonical,
        language=language,
        site_name=site,
        description=clean_inline(description) if description else None,
        editor=editor,
        original_title=trimmed.original_title,
        attribution=trimmed.attribution,
        notes=tuple(notes),
    )


def _editor_after(blocks: list[Block], last: int) -> str | None:
    """The editor named in the first blocks after the article (templates put `责任编辑` outside it)."""
    if last < 0:
        return None
    for block in blocks[last + 1 : last + 1 + FOOTER_BLOCKS]:
        editor = editor_of(clean_inline(block.text))
        if editor:
            return editor
    return None


_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]{0,40})[^>]{0,2000}>")
# Not counted: void elements and those whose end tag is implied (a new <p> or <li> closes the last one).
_FLAT = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "td",
        "th",
        "tr",
        "option",
        "optgroup",
        "rb",
        "rt",
        "rp",
        "tbody",
        "thead",
        "tfoot",
        "colgroup",
        "caption",
        "html",
        "head",
        "body",
    ]
)


def _bounded_depth(html: str) -> tuple[str, bool]:
    """The page, cut where its elements nest deeper than `MAX_DEPTH`, and whether it was cut."""
    if html.count("<") < DEPTH_CHECK_TAGS:
        return html, False
    depth = 0
    for match in _TAG.finditer(html):
        if match.group(2).lower() in _FLAT:
            continue
        if match.group(1):
            depth = max(0, depth - 1)
        elif not match.group(0).endswith("/>"):
            depth += 1
            if depth > MAX_DEPTH:
                return html[: match.start()], True
    return html, False
