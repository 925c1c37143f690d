"""Paragraphs of simple, well-formed HTML without building a tree: the common case, several times cheaper.

Most bodies are what a Markdown renderer or a CMS writes: paragraphs, headings, lists and quotes with
bold, italic and links inside, every tag closed in order, a handful of entities. For such markup the
HTML parser's tree adds nothing: a paragraph ends exactly where a block tag (opening or closing) or a
`<br>`/`<hr>` stands, and the text between tags is the text. `simple_paragraphs` splits the markup at
its tags and returns the same raw paragraphs as `html_text._raw_paragraphs` (which walks lexbor's
tree), or None as soon as anything could make the parser's tree differ, and the caller parses:

- a `<` that does not open one of the known tags below, in lower case, with quoted attribute values
  (comments, doctypes, processing instructions, `a < b`, upper-case or unquoted markup);
- a tag outside the lists below (tables, `pre`, forms, scripts and every skipped element, `body`, ...),
  an end tag of a void element (`</br>` is a `<br>` to the parser), a self-closing non-void tag;
- tags not closed in the order they were opened, or nested deeper than `MAX_DEPTH`;
- the nestings the parser repairs by closing an element early (a heading opened right inside a
  heading, a list item inside a list item without a list between them, a link inside a link), where a
  later end tag would then be ignored;
- an `&` other than `&amp; &lt; &gt; &quot; &apos; &nbsp;` or a numeric reference to a printable
  character; a carriage return or NUL (the parser rewrites them).

Leading whitespace is dropped, as the parser drops it before the document starts. The differential
tests (tests/unit/test_simple_html.py) hold the two to equal output over the bench corpora, the real
posts and thousands of generated fragments, valid and broken.
"""

from __future__ import annotations

import re

MAX_DEPTH = 256  # as html_text.MAX_DEPTH: deeper markup goes to the parser, which refuses it

BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure", "footer",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "li", "main", "nav", "ol", "p", "section", "ul"}
)  # fmt: skip
INLINE = frozenset(
    {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "del", "dfn", "em", "i", "ins", "kbd", "mark", "q",
     "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var"}
)  # fmt: skip
BREAKS = frozenset({"br", "hr"})  # void, end a paragraph
SILENT = frozenset({"img", "wbr"})  # void, no text
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
# Blocks the parser's list-item rule stops at: an open `li` (or `dt`/`dd`) below one of them is not closed.
_ITEM_BARRIERS = BLOCKS - {"address", "div", "p"}

_SPACE = "[ \t\n\x0c]"  # HTML's whitespace between a tag's parts (a regex's \s knows Unicode spaces too)
_TAG = re.compile(
    rf"<(/?)([a-z][a-z0-9]*)((?:{_SPACE}+[a-z_:][-a-z0-9_:.]*(?:{_SPACE}*={_SPACE}*(?:\"[^\"<>]*\"|'[^'<>]*'))?)*)"
    rf"{_SPACE}*(/?)>"
)
_ENTITY = re.compile(r"&(?:(amp|lt|gt|quot|apos|nbsp)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": "\xa0"}
_LEADING_SPACE = " \t\n\x0c\r"


class Paragraphs:
    """Raw paragraphs as a walk over markup finds them (this module's and `html_text`'s): text `parts` are
    gathered, and `end` closes a paragraph, kept unless it is only whitespace, its newlines made `newline`."""

    __slots__ = ("found", "newline", "parts")

    def __init__(self, newline: str) -> None:
        self.found: list[str] = []
        self.parts: list[str] = []
        self.newline = newline

    def end(self) -> None:
        if self.parts:
            joined = "".join(self.parts)
            self.parts.clear()
            if not joined.isspace():
                self.found.append(joined.replace("\n", self.newline))


def _printable(code: int) -> bool:
    if code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return False
    return not (0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE)  # noncharacters


def _decoded(text: str) -> str | None:
    """`text` with its entities decoded, or None if it holds any other `&` (the parser's rules are long)."""
    references = _ENTITY.findall(text)
    if len(references) != text.count("&"):
        return None
    for _, decimal, hexadecimal in references:
        if (decimal or hexadecimal) and not _printable(int(decimal, 10) if decimal else int(hexadecimal, 16)):
            return None
    return _ENTITY.sub(_reference, text)


def _reference(match: re.Match[str]) -> str:
    name, decimal, hexadecimal = match.groups()
    if name:
        return _NAMED[name]
    return chr(int(decimal, 10) if decimal else int(hexadecimal, 16))


def _opens_cleanly(name: str, stack: list[str]) -> bool:
    """False where the parser would close an open element when `name` opens (see the module doc)."""
    if name in HEADINGS:
        return not stack or stack[-1] not in HEADINGS
    if name == "a":
        return "a" not in stack
    if name in ("li", "dt", "dd"):
        kin = ("li",) if name == "li" else ("dt", "dd")
        for open_name in reversed(stack):
            if open_name in kin:
                return False
            if open_name in _ITEM_BARRIERS:
                return True
    return True


def simple_paragraphs(html: str, newline: str = " ") -> list[str] | None:
    """The raw paragraphs of `html` as the parser-based walk finds them, or None when it is not simple."""
    if "\r" in html or "\x00" in html:
        return None
    html = html.lstrip(_LEADING_SPACE)
    pieces = _TAG.split(html)  # text, then per tag: slash, name, attributes, self-closing slash, text
    tags = (len(pieces) - 1) // 5
    if html.count("<") != tags:
        return None
    paragraphs = Paragraphs(newline)
    add, flush = paragraphs.parts.append, paragraphs.end
    stack: list[str] = []

    for position in range(0, len(pieces), 5):
        text = pieces[position]
        if text:
            if "&" in text:
                decoded = _decoded(text)
                if decoded is None:
                    return None
                text = decoded
            add(text)
        if position + 1 >= len(pieces):
            break
        closing, name, self_closing = pieces[position + 1], pieces[position + 2], pieces[position + 4]
        if name in BREAKS or name in SILENT:
            if closing:
                return None
            if name in BREAKS:
                flush()
            continue
        if self_closing or (name not in BLOCKS and name not in INLINE):
            return None
        if closing:
            if not stack or stack.pop() != name:
                return None
        else:
            if not _opens_cleanly(name, stack):
                return None
            stack.append(name)
            if len(stack) > MAX_DEPTH:
                return None
        if name in BLOCKS:
            flush()
    if stack:
        return None
    flush()
    return paragraphs.found
