"""What the fetch stage keeps of an article page: the extractor's result (`pipeline.extract.ExtractedPage`) in a
form of our own, stored with the page's validators, so a page that answers 304 Not Modified is not extracted
again and a change of the extractor's type does not invalidate the page store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PageContent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    final_url: str = Field(description="Where the page was read, after redirects.")
    encoding: str | None = None
    title: str | None = None
    paragraphs: list[str] = Field(default_factory=list)
    authors: list[str] = Field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    site_name: str | None = None
    description: str | None = None
    editor: str | None = None
    original_title: str | None = None
    attribution: str | None = None
    notes: list[str] = Field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _language(value: Any) -> str | None:
    text = _text(value)
    return None if text in (None, "und") else text


def from_extracted(page: Any, *, final_url: str, encoding: str | None, notes: list[str]) -> PageContent:
    """Our PageContent from the extractor's result (read by attribute, so its own type stays its own)."""
    paragraphs = getattr(page, "paragraphs", None)
    if paragraphs is None:
        body = getattr(page, "body_text", None) or ""
        paragraphs = [line for line in body.split("\n") if line.strip()]
    return PageContent(
        final_url=final_url,
        encoding=encoding,
        title=_text(getattr(page, "title", None)),
        paragraphs=[str(p) for p in paragraphs if str(p).strip()],
        authors=[str(a) for a in getattr(page, "authors", None) or [] if str(a).strip()],
        published=_text(getattr(page, "published", None)),
        updated=_text(getattr(page, "updated", None)),
        canonical_url=_text(getattr(page, "canonical_url", None)),
        language=_language(getattr(page, "language", None)),
        site_name=_text(getattr(page, "site_name", None)),
        description=_text(getattr(page, "description", None)),
        editor=_text(getattr(page, "editor", None)),
        original_title=_text(getattr(page, "original_title", None)),
        attribution=_text(getattr(page, "attribution", None)),
        notes=[*notes, *(str(n) for n in getattr(page, "notes", None) or [])],
    )
