"""Markdown post bodies -> HTML, with pulldown-cmark (CommonMark) through pyromark.

Jekyll and Hexo posts are Markdown: paragraphs separated by blank lines, `[text](link)` links, a
`> ` digest, and HTML passed through as CommonMark says (a line that opens a block-level tag starts
an HTML block that runs to the next blank line). Decisions:
- A leading blockquote (`> ` lines before anything else) is the post's digest: it is rendered on its
  own and returned apart from the body, which goes on after it (the transform makes it the summary).
- Lines indented four columns or more whose first visible character is `<` lose their indentation
  before rendering. Sites that
  mirror news keep the source page's indented HTML (`            <!-- 文末二维码 -->`, a `<style>`
  block, nested `<div>`s) inside their posts; CommonMark would show four or more spaces of
  indentation as a code block, i.e. as the HTML source text. Dedented, it stays HTML, as meant.
  (The one Markdown this changes is an indented code block that shows HTML source.)
- Tables and strikethrough are on (kramdown, Jekyll's default renderer, has both).
- A body that is one HTML block (it opens with a block-level tag and has no blank line, as the seed
  and most Eastmoney posts) is returned as it is without parsing: that is what CommonMark renders.
Cost: about 10 us for a seed-sized post that needs parsing (markdown-it-py took 370 us for the same
post), nothing for one that is a single HTML block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyromark

_OPTIONS = pyromark.Options.ENABLE_TABLES | pyromark.Options.ENABLE_STRIKETHROUGH
# Four or more columns of indentation make a code block (up to three are allowed before HTML).
_INDENTED_TAG = re.compile(r"\n(?: {4}|[ ]{0,3}\t)[ \t]*<")  # a literal first character: found at C speed
_BLANK = re.compile(r"\n[ \t]*\n")
# CommonMark's HTML blocks of type 6: a line opening (or closing) one of these tags starts a block
# that runs to the next blank line, passed through untouched.
_HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|"
    "dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|"
    "li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|"
    "tfoot|th|thead|title|tr|track|ul"
)
_HTML_BLOCK_START = re.compile(rf" {{0,3}}</?(?:{_HTML_BLOCK_TAGS})(?:[ \t>]|/>|\n|$)", re.IGNORECASE)
_DIGEST_START = re.compile(r"\n*[ ]{0,3}>")


@dataclass(frozen=True)
class RenderedPost:
    html: str
    digest_html: str | None = None


def render_html(markdown: str) -> str:
    """HTML of a Markdown text (HTML inside passes through)."""
    if not markdown or markdown.isspace():
        return ""
    if "<" in markdown:
        if _INDENTED_TAG.search(markdown) or markdown.startswith(("    ", "\t")):
            markdown = _INDENTED_TAG.sub("\n<", "\n" + markdown)
        markdown = markdown.strip("\n")  # the same object when there is nothing to strip
        if _HTML_BLOCK_START.match(markdown) and not _BLANK.search(markdown):
            return markdown  # one HTML block, which CommonMark passes through as it is (no copy)
    return pyromark.html(markdown, options=_OPTIONS)


def _split_digest(markdown: str) -> tuple[str | None, str]:
    """(the leading `> ` block, the rest) when the text opens with a blockquote, else (None, text)."""
    if not _DIGEST_START.match(markdown):
        return None, markdown
    text = markdown.lstrip("\n")
    blank = _BLANK.search(text)
    if blank is None:
        return text, ""
    return text[: blank.start()], text[blank.end() :]


def render_post(markdown: str) -> RenderedPost:
    """The body of a post as HTML, and its leading `> ` digest (as HTML) when it has one."""
    digest, body = _split_digest(markdown)
    return RenderedPost(html=render_html(body), digest_html=render_html(digest) if digest else None)
