"""HTML to clean text, one paragraph per line, with selectolax (lexbor).

Block elements (p, div, headings, list items, table rows, ...) and <br> end a paragraph;
a table row is one line with its cells separated by ` | `; inline elements (b, strong, a,
span, ...) stay inside it, so a bold sub-head written as
`<p><strong>…</strong></p>` is its own paragraph and a bold lead-in sentence stays with its
paragraph. Scripts, styles, templates, embedded objects, comments and everything in <head> are
dropped. Entities are decoded by the parser; the result never contains markup.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from pipeline.normalize.text import clean_inline, clean_lines

_SKIPPED = frozenset(
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
_BLOCKS = frozenset(
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
_CELLS = frozenset({"td", "th"})
CELL_SEPARATOR = " | "


def _needs_parsing(value: str) -> bool:
    return "<" in value or "&" in value


def _raw_paragraphs(html: str, newline: str = " ") -> list[str]:
    """Paragraph texts before cleanup; newlines inside a paragraph already turned into `newline`."""
    body = LexborHTMLParser(html).body
    if body is None:
        return []
    paragraphs: list[str] = []
    parts: list[str] = []
    add = parts.append

    def flush() -> None:
        if parts:
            joined = "".join(parts)
            parts.clear()
            if not joined.isspace():
                paragraphs.append(joined.replace("\n", newline))

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
        elif tag in _SKIPPED:
            continue
        elif tag == "br" or tag == "hr":
            flush()
        else:
            block = tag in _BLOCKS
            if block:
                flush()
            elif tag in _CELLS:
                # Cells of a row stay on one line, separated so that neighbouring CJK cells do not merge.
                add(CELL_SEPARATOR if any(not part.isspace() for part in parts) else " ")
            top = (node.iter(include_text=True), block, top[2] or tag == "pre")
            stack.append(top)
    return paragraphs


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
