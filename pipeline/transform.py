"""RawItem -> Article: the pure transform the normalize worker runs on every item.

Decisions:
- id: the raw item's `item_id` (computed by the source parser with `normalize.ids.item_id`), so the
  raw key, the article id, the Kafka key and the Elasticsearch _id are one value.
- body: the item's content HTML, else its summary HTML; site navigation, bare source links and the
  attribution line are removed; the attribution goes to `attribution` as `文章来源：<outlet>`.
- title: cleaned of markup; an item without a usable title takes the first sentence of its body.
- summary: the lead of the body (see `normalize.summary`).
- published_at: `published`, else `updated`, read by `normalize.dates` with the source's zone for
  naive dates; an implausible date (before 1990, or over a day after the fetch) is dropped with a note.
- category: the source's category, else the item's first tag/category, else `uncategorized`.
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
from pipeline.normalize.dates import check_plausible, default_zone, parse_datetime
from pipeline.normalize.html_text import html_paragraphs, inline_text
from pipeline.normalize.ids import ID_PATTERN
from pipeline.normalize.language import detect_language
from pipeline.normalize.summary import lead
from pipeline.normalize.urls import canonical_url
from pipeline.tagging import keywords, merge_tags
from schemas.models import Article, RawItem

TITLE_FROM_BODY_CHARS = 80
UNCATEGORIZED = "uncategorized"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Normalized:
    """An article and the notes of what was dropped or guessed on the way (for logs and metrics)."""

    article: Article
    notes: tuple[str, ...] = ()


def _body(raw: RawItem, notes: list[str]) -> list[str]:
    paragraphs = html_paragraphs(raw.content_html) if raw.content_html else []
    if not paragraphs and raw.summary_html:
        if raw.content_html:
            notes.append("content has no text: used the summary")
        paragraphs = html_paragraphs(raw.summary_html)
    return strip_trailer(paragraphs)


def _title(raw: RawItem, paragraphs: list[str], notes: list[str]) -> str:
    title = inline_text(raw.title) if raw.title else ""
    if title:
        return title
    if not paragraphs:
        if raw.title and raw.title.strip():
            raise InvalidItem(f"title empty after cleaning ({raw.title[:80]!r}) and no body")
        raise InvalidItem("no title and no body")
    notes.append("no usable title: took the first sentence of the body")
    return lead(paragraphs, limit=TITLE_FROM_BODY_CHARS)


def _published(raw: RawItem, language: str, notes: list[str]) -> datetime | None:
    zone = default_zone(raw.source.language or raw.language or language)
    for label, value in (("published", raw.published), ("updated", raw.updated)):
        if not value:
            continue
        parsed = parse_datetime(value, default=zone)
        if parsed is None:
            notes.append(f"{label} date {value[:60]!r} is not a date I can read: dropped")
            continue
        problem = check_plausible(parsed, now=raw.fetched_at)
        if problem:
            notes.append(f"{label} {problem}: dropped")
            continue
        return parsed
    return None


def normalize_item(raw: RawItem, *, normalized_at: datetime) -> Normalized:
    """The Article of a raw item, with notes; raises InvalidItem when there is no article in it."""
    if not ID_PATTERN.fullmatch(raw.item_id):
        raise InvalidItem(f"item_id {raw.item_id[:80]!r} is not a newsflow id (32 lowercase hex digits)")
    notes: list[str] = []
    paragraphs = _body(raw, notes)
    paragraphs, attribution = extract_attribution(paragraphs)
    title = _title(raw, paragraphs, notes)
    body_text = "\n".join(paragraphs)
    text = f"{title}\n{body_text}"
    language = detect_language(text, hint=raw.source.language or raw.language)
    try:
        article = Article(
            id=raw.item_id,
            url=canonical_url(raw.url, base=raw.base_url),
            title=title,
            summary=lead(paragraphs),
            body_text=body_text,
            attribution=attribution,
            published_at=_published(raw, language, notes),
            language=language,
            outlet=raw.source.outlet,
            category=raw.source.category or (raw.tags[0] if raw.tags else UNCATEGORIZED),
            tags=merge_tags(raw.source.tags, raw.tags),
            keywords=keywords(text, language),
            authors=merge_tags(inline_text(author) for author in raw.authors),
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
