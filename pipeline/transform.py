"""RawItem -> Article: the pure transform the normalize worker runs on every item.

Decisions:
- id: the raw item's `item_id` (computed by the source parser with `normalize.ids.item_id`), so the
  raw key, the article id, the Kafka key and the Elasticsearch _id are one value.
- body: the item's content (Markdown posts rendered first, see `normalize.markdown`; a leading `> `
  digest becomes the summary), else its summary HTML; site navigation, bare source links, the
  outlet's lead-ins, bylines, trailers and promos (`normalize.outlet_boilerplate`) and the
  attribution line are removed; the attribution goes to `attribution` (`文章来源：<outlet>`), the
  credited editor to `editor`, `原标题` to `original_title`, reporters to `authors`.
- title: cleaned of markup; an item without a usable title takes the first sentence of its body
  (of its first paragraph, at most 80 characters).
- summary: the post's digest (a leading `> ` quote, or an outlet's `◎` abstract), else the lead of
  the body (see `normalize.summary`).
- published_at: `published`, else `updated`, else a dateline printed in the body, read by
  `normalize.dates` in the source's zone for naive dates; an unreadable or implausible date (before
  1990, or over a day after the fetch) is dropped with a note.
- category: the source's fixed `category`, else the item's own (a post's category path, a feed
  entry's first <category>), else `uncategorized`.
- outlet: the source's `outlets` mapping of the item's category (its path, then each of its
  categories from the most specific), else the source's fixed `outlet`, else the outlet the item
  names (a post's `author`, a feed entry's <source>), else its body's attribution (`文章来源：X`,
  `(X)` ending the text), else the source id. An outlet taken from a post's `author` is not also
  listed among its authors.
- tickers: stock codes marked in the title and the body text, in order, then those of the body's
  quote links (`normalize.tickers`), normalized, without repeats.
- content_hash: sha256 of `title + "\\n" + body_text`; version: fetch time in epoch milliseconds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from pipeline.config import PIPELINE_VERSION
from pipeline.errors import InvalidItem
from pipeline.normalize.boilerplate import extract_attribution, strip_trailer
from pipeline.normalize.dates import check_plausible, parse_datetime, source_zone
from pipeline.normalize.html_text import NestingTooDeep, html_paragraphs, inline_text
from pipeline.normalize.ids import ID_PATTERN
from pipeline.normalize.language import detect_language
from pipeline.normalize.markdown import render_post
from pipeline.normalize.outlet_boilerplate import Credits, strip_outlet_boilerplate
from pipeline.normalize.summary import first_sentence, lead
from pipeline.normalize.tickers import tickers_in_html, tickers_in_text
from pipeline.normalize.urls import canonical_url
from pipeline.tagging import keywords, merge_tags
from schemas.models import Article, ContentFormat, RawItem

TITLE_FROM_BODY_CHARS = 80
UNCATEGORIZED = "uncategorized"
# Attributions that name one outlet (not `综合：A、B` or `资料来源`): they may give an item its outlet.
_OUTLET_LABELS = ("文章来源", "稿件来源", "本文来源", "来源")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Normalized:
    """An article and the notes of what was dropped or guessed on the way (for logs and metrics)."""

    article: Article
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Body:
    paragraphs: list[str]
    html: str | None  # the body as HTML (a Markdown post rendered), for the tickers of its links
    digest: list[str]  # paragraphs of a post's leading `> ` digest


def _body(raw: RawItem, notes: list[str]) -> _Body:
    html, digest = raw.content_html, None
    if html and raw.content_format is ContentFormat.MARKDOWN:
        rendered = render_post(html)
        html, digest = rendered.html, rendered.digest_html
    paragraphs = html_paragraphs(html) if html else []
    digest_paragraphs = html_paragraphs(digest) if digest else []
    if not paragraphs and digest_paragraphs:
        paragraphs = digest_paragraphs  # a post that is only its digest
    if not paragraphs and raw.summary_html:
        if raw.content_html:
            notes.append("content has no text: used the summary")
        paragraphs = html_paragraphs(raw.summary_html)
    return _Body(strip_trailer(paragraphs), html, digest_paragraphs)


def _title(raw: RawItem, title: str, paragraphs: list[str], notes: list[str]) -> str:
    if title:
        return title
    if not paragraphs:
        if raw.title and raw.title.strip():
            raise InvalidItem(f"title empty after cleaning ({raw.title[:80]!r}) and no body")
        raise InvalidItem("no title and no body")
    notes.append("no usable title: took the first sentence of the body")
    return first_sentence(paragraphs, limit=TITLE_FROM_BODY_CHARS)


def _published(raw: RawItem, language: str, dateline: str | None, notes: list[str]) -> datetime | None:
    zone = source_zone(raw.source, raw.language or language)
    candidates = (("published", raw.published), ("updated", raw.updated), ("dateline", dateline))
    for label, value in candidates:
        if not value:
            continue
        parsed = parse_datetime(value, default=zone)
        if parsed is None:
            notes.append(f"{label} date {value[:60]!r} is not a date newsflow can read: dropped")
            continue
        problem = check_plausible(parsed, now=raw.fetched_at)
        if problem:
            notes.append(f"{label} {problem}: dropped")
            continue
        if label == "dateline":
            notes.append(f"no usable date in the item: took the dateline {value!r} printed in the body")
        return parsed
    return None


def _category(raw: RawItem) -> str:
    return raw.source.category or raw.category or (raw.categories[0] if raw.categories else UNCATEGORIZED)


def _mapped_outlet(raw: RawItem) -> str | None:
    """The source's `outlets` entry for the item's category path, else for one of its categories."""
    outlets = raw.source.outlets
    if not outlets:
        return None
    for key in (raw.category, *reversed(raw.categories)):
        if key and key.strip() in outlets:
            return outlets[key.strip()]
    return None


def _attributed_outlet(attribution: str | None) -> str | None:
    if not attribution:
        return None
    label, _, who = attribution.partition("：")
    return who.strip() or None if label in _OUTLET_LABELS else None


def _outlet(raw: RawItem, attribution: str | None) -> tuple[str, bool]:
    """(the item's outlet, whether it is the post's `author`)."""
    outlet = _mapped_outlet(raw) or raw.source.outlet
    if outlet:
        return outlet, False
    if raw.outlet and raw.outlet.strip():
        return inline_text(raw.outlet), True
    return _attributed_outlet(attribution) or raw.source.id, False


def _tickers(text: str, html: str | None) -> list[str]:
    """Codes marked in the title and body text (`text`), then those of the body's quote links."""
    found = tickers_in_text(text)
    if html:
        found += tickers_in_html(html)
    return list(dict.fromkeys(found))


def _summary(body: _Body, credits: Credits, paragraphs: list[str]) -> str:
    if body.digest:
        return lead(body.digest)
    if credits.digest:
        return lead([credits.digest])
    return lead(paragraphs)


def normalize_item(raw: RawItem, *, normalized_at: datetime) -> Normalized:
    """The Article of a raw item, with notes; raises InvalidItem when there is no article in it."""
    if not ID_PATTERN.fullmatch(raw.item_id):
        raise InvalidItem(f"item_id {raw.item_id[:80]!r} is not a newsflow id (32 lowercase hex digits)")
    notes: list[str] = []
    try:
        written_title = inline_text(raw.title) if raw.title else ""
        body = _body(raw, notes)
    except NestingTooDeep as exc:
        raise InvalidItem(str(exc)) from None
    credits = strip_outlet_boilerplate(body.paragraphs, written_title or None)
    paragraphs, attribution = extract_attribution(credits.paragraphs)
    page = raw.page  # the fetch stage's extractor already cut these lines from a page's text
    attribution = attribution or credits.attribution or (page.attribution if page else None)
    title = _title(raw, written_title, paragraphs, notes)
    body_text = "\n".join(paragraphs)
    text = f"{title}\n{body_text}"
    language = detect_language(text, hint=raw.source.language or raw.language)
    outlet, outlet_is_author = _outlet(raw, attribution)
    authors = [author for author in raw.authors if not (outlet_is_author and author.strip() == raw.outlet)]
    try:
        article = Article(
            id=raw.item_id,
            url=canonical_url(raw.url, base=raw.base_url),
            title=title,
            summary=_summary(body, credits, paragraphs),
            body_text=body_text,
            attribution=attribution,
            editor=credits.editor or (page.editor if page else None),
            original_title=credits.original_title or (page.original_title if page else None),
            published_at=_published(raw, language, credits.dateline, notes),
            language=language,
            outlet=outlet,
            category=_category(raw),
            tags=merge_tags(raw.source.tags, raw.tags),
            keywords=keywords(text, language),
            tickers=_tickers(text, body.html),
            authors=merge_tags((inline_text(author) for author in authors), credits.authors),
            char_count=len(body_text),
            content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            source_id=raw.source.id,
            source_type=raw.source.type,
            fetched_at=raw.fetched_at.astimezone(UTC),
            normalized_at=normalized_at.astimezone(UTC),
            version=(raw.fetched_at - _EPOCH) // _MILLISECOND,
            pipeline_version=PIPELINE_VERSION,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise InvalidItem(f"the article does not validate: {field}: {first['msg']}") from None
    return Normalized(article, tuple(notes))


def to_article(raw: RawItem, *, normalized_at: datetime) -> Article:
    """The Article of a raw item; raises InvalidItem with the reason when there is none."""
    return normalize_item(raw, normalized_at=normalized_at).article
