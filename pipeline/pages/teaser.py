"""Which items need their linked page fetched: the decision of `fetch_article` (pure).

- `never`: none. `always`: every item with a link.
- `auto` (the default of feeds and sitemaps): an item with a link whose content is missing, shorter than
  `short_chars` characters of text, or ends the way teasers end (`…`, `...`, 阅读全文, Read more, 点击查看 ...).
"""

from __future__ import annotations

from typing import Literal

from pipeline.normalize.html_text import html_to_text
from schemas.models import RawItem

# Compared lower-cased, after trailing arrows, brackets and spaces are stripped ("阅读全文>>", "[Read more »]").
TEASER_ENDINGS = (
    "…",
    "...",
    "阅读全文",
    "閱讀全文",
    "查看全文",
    "点击查看",
    "點擊查看",
    "展开全文",
    "read more",
    "continue reading",
    "read the full story",
    "full story",
)
_TRAILING = " \t\r\n\u3000»›→>)]】）」:："


def item_text(item: RawItem) -> str:
    """The text an item carries itself: its content, else its summary."""
    for html in (item.content_html, item.summary_html):
        if html and html.strip():
            text = html_to_text(html)
            if text:
                return text
    return ""


def is_teaser(text: str) -> bool:
    tail = text[-40:].lower().rstrip(_TRAILING)
    return any(tail.endswith(ending) for ending in TEASER_ENDINGS)


def page_reason(item: RawItem, mode: Literal["auto", "always", "never"], short_chars: int) -> str | None:
    """Why the item's page should be fetched (a few words for logs), or None when it should not."""
    if mode == "never" or not item.url:
        return None
    if mode == "always":
        return "fetch_article: always"
    text = item_text(item)
    if not text:
        return "no content"
    if is_teaser(text):
        return "content ends like a teaser"
    if len(text) < short_chars:
        return f"content is short ({len(text)} < {short_chars} characters)"
    return None
