"""TEMPORARY stand-in for the article extractor (`pipeline.extract.extract_article`), with its signature.

It exists only until the real extractor is merged; it is deliberately small: the existing HTML-to-text
path over the page's <article> (or <main>, or <body>), and the page metadata every news page carries
(<title>/og:title, <link rel=canonical>/og:url, article:published_time and JSON-LD dates, author meta,
<html lang>). The fetch stage calls it through `pipeline.pages.content.from_extracted` only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from pipeline.normalize.html_text import html_paragraphs, inline_text


@dataclass(frozen=True)
class ExtractedPage:
    title: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def body_text(self) -> str:
        return "\n".join(self.paragraphs)


def _meta(tree: LexborHTMLParser, *names: str) -> str | None:
    for name in names:
        for attribute in ("property", "name", "itemprop"):
            node = tree.css_first(f'meta[{attribute}="{name}"]')
            value = node.attributes.get("content") if node else None
            if value and value.strip():
                return value.strip()
    return None


def _json_ld(tree: LexborHTMLParser) -> dict[str, object]:
    for node in tree.css('script[type="application/ld+json"]'):
        try:
            data = json.loads(node.text() or "")
        except ValueError:
            continue
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(entry, dict) and "headline" in entry:
                return entry
    return {}


def _ld_authors(value: object) -> list[str]:
    entries = value if isinstance(value, list) else [value]
    names = [entry.get("name") if isinstance(entry, dict) else entry for entry in entries]
    return [str(name).strip() for name in names if isinstance(name, str) and name.strip()]


def _main_node(tree: LexborHTMLParser) -> LexborNode | None:
    for selector in ("article", "main", '[itemprop="articleBody"]', "body"):
        node = tree.css_first(selector)
        if node is not None:
            return node
    return None


def extract_article(html: str, *, url: str, language_hint: str | None = None) -> ExtractedPage:
    tree = LexborHTMLParser(html)
    ld = _json_ld(tree)
    canonical_node = tree.css_first('link[rel="canonical"]')
    canonical = (canonical_node.attributes.get("href") if canonical_node else None) or _meta(tree, "og:url")
    title_node = tree.css_first("title")
    title = _meta(tree, "og:title") or (inline_text(title_node.text()) if title_node else None)
    main = _main_node(tree)
    if main is not None:
        for unwanted in main.css("nav, header, footer, aside, script, style, form"):
            unwanted.decompose()
    paragraphs = html_paragraphs(main.html or "") if main is not None else []
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    html_node = tree.css_first("html")
    authors = _ld_authors(ld.get("author")) or [a for a in [_meta(tree, "author", "article:author")] if a]
    published = ld.get("datePublished") or _meta(tree, "article:published_time", "datePublished", "pubdate")
    updated = ld.get("dateModified") or _meta(tree, "article:modified_time", "dateModified")
    return ExtractedPage(
        title=title,
        paragraphs=paragraphs,
        authors=authors,
        published=str(published) if published else None,
        updated=str(updated) if updated else None,
        canonical_url=canonical.strip() if canonical else None,
        language=(html_node.attributes.get("lang") if html_node else None) or language_hint,
        site_name=_meta(tree, "og:site_name"),
        description=_meta(tree, "og:description", "description"),
    )
