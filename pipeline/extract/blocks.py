"""A page's text as a flat list of blocks, in document order, with what each sits in.

One pass over the DOM (an explicit stack, never recursion, so hostile nesting cannot overflow it) turns
every paragraph-level run of text into a `Block`: its text, how much of it is link text, the chain of
block elements it sits in (by node id), which of those look like page furniture by their class or id
(share bars, related links, comments, sidebars ...), and the tag of its own element. Scripts, styles,
forms' controls, captions, `<nav>`, `<aside>` and `<footer>` are not text of an article and are skipped;
so are elements hidden with `display:none` or `hidden`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from selectolax.lexbor import LexborNode

from pipeline.normalize.html_text import BLOCK_TAGS as TEXT_BLOCK_TAGS
from pipeline.normalize.html_text import CELL_TAGS, SKIPPED_TAGS

# Besides what is never text (`SKIPPED_TAGS`), a page's controls, captions and furniture elements are not
# text of its article: skipped here, though HTML-to-text keeps the last five as paragraphs.
_NOT_ARTICLE = frozenset({"button", "input", "option", "figcaption", "nav", "aside", "footer", "dialog"})
_SKIPPED = SKIPPED_TAGS | _NOT_ARTICLE
BLOCK_TAGS = TEXT_BLOCK_TAGS - _NOT_ARTICLE
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# Words in a class or id that mark page furniture, not the article (English and the pinyin Chinese
# templates use: fenxiang = share, tuijian = recommend, xgxw = related news).
FURNITURE = frozenset(
    {
        "ad",
        "ads",
        "advert",
        "advertisement",
        "banner",
        "breadcrumb",
        "breadcrumbs",
        "byline",
        "caption",
        "cmnt",
        "comment",
        "comments",
        "copyright",
        "cookie",
        "crumb",
        "disclaimer",
        "download",
        "editor",
        "fenxiang",
        "hot",
        "keywords",
        "login",
        "menu",
        "modal",
        "more",
        "nav",
        "newsletter",
        "pagination",
        "popup",
        "promo",
        "qr",
        "qrcode",
        "rank",
        "ranking",
        "readmore",
        "recommend",
        "related",
        "share",
        "sharing",
        "sidebar",
        "signup",
        "social",
        "sponsor",
        "statement",
        "subscribe",
        "tags",
        "toolbar",
        "tuijian",
        "xgxw",
    }
)
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_INVISIBLE = frozenset({"hidden", "sr-only", "visually-hidden", "screen-reader-text", "hide"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass(slots=True)
class Block:
    text: str  # raw text, whitespace not yet collapsed
    link_chars: int
    chain: tuple[int, ...]  # ids of the block elements it sits in, outermost first; the last is its own
    furniture: tuple[int, ...]  # ids in `chain` whose class or id marks page furniture
    tag: str  # its own element's tag


@lru_cache(maxsize=8192)
def names_furniture(value: str) -> bool:
    """True when a class or id value names page furniture (`share-bar`, `relatedNews`, `ad-slot`)."""
    return len(value) < 300 and any(word.lower() in FURNITURE for word in _WORD.findall(value))


@lru_cache(maxsize=8192)
def _hidden_class(value: str) -> bool:
    """`hidden` alone (not `hidden lg:block`, shown on wide screens) and screen-reader-only text."""
    if len(value) >= 300:
        return False
    names = value.split()
    return bool(_INVISIBLE.intersection(names)) and not any(":" in name for name in names)


def is_furniture(attributes: dict[str, str | None]) -> bool:
    """True when an element's class or id names page furniture."""
    classes, name = attributes.get("class"), attributes.get("id")
    return bool((classes and names_furniture(classes)) or (name and names_furniture(name)))


def _hidden(attributes: dict[str, str | None]) -> bool:
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    classes = attributes.get("class")
    if classes and _hidden_class(classes):
        return True
    style = attributes.get("style")
    return bool(style and len(style) < 500 and _HIDDEN_STYLE.search(style))


@dataclass(slots=True)
class Tree:
    """What is known of the block elements: each one's parent, and its tag and class (its kind)."""

    parents: dict[int, int]
    kinds: dict[int, str]


def page_blocks(root: LexborNode, *, max_blocks: int = 20_000) -> tuple[list[Block], Tree]:
    """The blocks under `root` in document order, and the tree of block elements they sit in."""
    blocks: list[Block] = []
    parents: dict[int, int] = {}
    kinds: dict[int, str] = {}
    parts: list[str] = []
    link_parts: list[int] = [0]
    chain: list[int] = []
    furniture: list[int] = []
    tags: list[str] = []

    def flush() -> None:
        if parts:
            text = "".join(parts)
            parts.clear()
            links = link_parts[0]
            link_parts[0] = 0
            if text and not text.isspace() and len(blocks) < max_blocks:
                blocks.append(Block(text, links, tuple(chain), tuple(furniture), tags[-1] if tags else "body"))

    # Stack entries: (children, is_block, is_link, node id, is_furniture).
    stack: list[tuple[Iterator[Any], bool, bool, int, bool]] = [(root.iter(include_text=True), True, False, 0, False)]
    chain.append(root.mem_id)
    tags.append(root.tag or "body")
    top = stack[-1]
    links_open = 0
    while True:
        node = next(top[0], None)
        if node is None:
            stack.pop()
            if top[1]:
                flush()
                chain.pop()
                tags.pop()
                if top[4]:
                    furniture.pop()
            if top[2]:
                links_open -= 1
            if not stack:
                break
            top = stack[-1]
            continue
        tag = node.tag
        if tag == "-text":
            value = node.text_content
            if value:
                parts.append(value)
                if links_open:
                    link_parts[0] += len(value.strip())
            continue
        if tag in _SKIPPED or tag is None:
            continue
        if tag == "br" or tag == "hr":
            flush()
            continue
        attributes = node.attributes
        if attributes and _hidden(attributes):
            continue
        block = tag in BLOCK_TAGS
        link = tag == "a"
        marked = False
        if block:
            flush()
            node_id = node.mem_id
            parents[node_id] = chain[-1]
            kinds[node_id] = f"{tag}.{(attributes.get('class') or '')[:100]}"
            chain.append(node_id)
            tags.append(tag)
            if attributes and is_furniture(attributes):
                furniture.append(node_id)
                marked = True
        elif tag in CELL_TAGS:
            parts.append(" ")
        if link:
            links_open += 1
        top = (node.iter(include_text=True), block, link, node.mem_id if block else 0, marked)
        stack.append(top)
    return blocks, Tree(parents, kinds)
