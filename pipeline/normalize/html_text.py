"""HTML to clean text, one paragraph per line, with selectolax (lexbor).

Block elements (p, div, headings, list items, table rows, ...) and <br> end a paragraph;
a table row is one line with its cells separated by ` | `; inline elements (b, strong, a,
span, ...) stay inside it, so a bold sub-head written as
`<p><strong>…</strong></p>` is its own paragraph and a bold lead-in sentence stays with its
paragraph. Scripts, styles, templates, embedded objects, comments and everything in <head> are
dropped. Entities are decoded by the parser; the result never contains markup.

Markup nested thousands of levels deep is refused (`NestingTooDeep`) before parsing: building such a
tree costs the parser time quadratic in the depth (30,000 nested `<div>`s, 150 KB, take a minute),
and a Markdown post reaches that depth in two bytes a level (`- - - …`). Only a body with over
`SCAN_TAGS_FROM` tags is scanned, so ordinary articles pay one `str.count`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from pipeline.normalize.simple_html import Paragraphs, simple_paragraphs
from pipeline.normalize.text import clean_inline, clean_lines

# Elements whose content is never text of the page (shared with `pipeline.extract.blocks`).
SKIPPED_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "math",
        "canvas",
        "select",
        "textarea",
        "head",
        "title",
        "-comment",
        "-doctype",
    }
)
# Elements that end a paragraph (shared with `pipeline.extract.blocks`).
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
    }
)
CELL_TAGS = frozenset({"td", "th"})
CELL_SEPARATOR = " | "


MAX_DEPTH = 256  # no article's markup nests deeper; a hostile one nests thousands deep
SCAN_TAGS_FROM = 2000  # below this many tags even a fully nested body parses in milliseconds
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)[^<>]*?(/?)>")
# Elements that never hold their own kind: an unclosed one ends where the next one starts (`<p>` after
# `<p>`), so they do not deepen the tree however many are left open; void elements have no content.
_FLAT = frozenset(
    {"p", "li", "dt", "dd", "tr", "td", "th", "option", "tbody", "thead", "tfoot", "area", "base", "br", "col",
     "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)  # fmt: skip


class NestingTooDeep(ValueError):
    """The markup nests deeper than any article's (`MAX_DEPTH`)."""


def _check_depth(html: str) -> None:
    if html.count("<") <= SCAN_TAGS_FROM:
        return
    depth = 0
    for match in _TAG.finditer(html):
        closing, name, self_closing = match.groups()
        if name.lower() in _FLAT:
            continue
        if closing:
            depth = max(depth - 1, 0)
        elif not self_closing:
            depth += 1
            if depth > MAX_DEPTH:
                raise NestingTooDeep(f"the markup nests more than {MAX_DEPTH} elements deep: not an article")


def _needs_parsing(value: str) -> bool:
    return "<" in value or "&" in value


def _raw_paragraphs(html: str, newline: str = " ") -> list[str]:
    """Paragraph texts before cleanup; newlines inside a paragraph already turned into `newline`. Simple
    markup is split at its tags (`simple_html`), anything else goes through the parser's tree."""
    simple = simple_paragraphs(html, newline)
    return simple if simple is not None else parsed_paragraphs(html, newline)


def parsed_paragraphs(html: str, newline: str = " ") -> list[str]:
    """`_raw_paragraphs` from lexbor's tree, whatever the markup."""
    _check_depth(html)
    body = LexborHTMLParser(html).body
    if body is None:
        return []
    paragraphs = Paragraphs(newline)
    parts = paragraphs.parts
    add, flush = parts.append, paragraphs.end

    # An explicit stack of child iterators, not recursion: hostile nesting depth cannot overflow it.
    # Each entry: (children, is_block, in_pre).
    stack: list[tuple[Iterator[Any], bool, bool]] = [(body.iter(include_text=True), True, False)]
    top = stack[-1]
    while True:
        node = next(top[0], None)
        if node is None:
            stack.pop()
            if top[1]:
                flush()
            if not stack:
                break
            top = stack[-1]
            continue
        tag = node.tag
        if tag == "-text":
            if top[2]:
                lines = node.text_content.split("\n")
                for line in lines[:-1]:
                    add(line)
                    flush()
                add(lines[-1])
            else:
                add(node.text_content)
        elif tag in SKIPPED_TAGS:
            continue
        elif tag == "br" or tag == "hr":
            flush()
        else:
            block = tag in BLOCK_TAGS
            if block:
                flush()
            elif tag in CELL_TAGS:
                # Cells of a row stay on one line, separated so that neighbouring CJK cells do not merge.
                add(CELL_SEPARATOR if any(not part.isspace() for part in parts) else " ")
            top = (node.iter(include_text=True), block, top[2] or tag == "pre")
            stack.append(top)
    return paragraphs.found


def html_paragraphs(html: str) -> list[str]:
    """Clean paragraphs of an HTML fragment (or of plain text), in document order, none empty."""
    if not html or html.isspace():
        return []
    if not _needs_parsing(html):
        cleaned = clean_lines(html)
        return cleaned.split("\n") if cleaned else []
    cleaned = clean_lines("\n".join(_raw_paragraphs(html)))
    return cleaned.split("\n") if cleaned else []


def html_to_text(html: str) -> str:
    """Clean text of an HTML fragment, one paragraph per line."""
    return "\n".join(html_paragraphs(html))


def inline_text(value: str) -> str:
    """One clean line from a value that may carry HTML or entities (a title, an author, a tag)."""
    if not _needs_parsing(value):
        return clean_inline(value)
    # Line breaks stay until `clean_inline`, which tells a wrapped CJK line from a space.
    return clean_inline(" ".join(_raw_paragraphs(value, newline="\n")))
