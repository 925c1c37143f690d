"""What `extract_article` returns: the article of a web page, its metadata, and notes on what was guessed."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The article found in one HTML page.

    Dates are ISO 8601 strings with the offset the page gave (a date without a zone is read in the zone of
    the page's language: UTC+8 for Chinese). `canonical_url` is the page's own `<link rel=canonical>` or
    `og:url`, resolved against the fetched URL and normalized; None when the page declares none (or only a
    site's home page). `notes` says, one line each, what was guessed, where a value came from and what was
    dropped from the text.
    """

    url: str
    title: str | None = None
    paragraphs: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    published: str | None = None
    updated: str | None = None
    canonical_url: str | None = None
    language: str = "und"
    site_name: str | None = None
    description: str | None = None
    editor: str | None = None  # 责任编辑 / 责编 / 编辑 of a Chinese trailer
    original_title: str | None = None  # 原标题 of a reprinted Chinese story
    attribution: str | None = None  # `文章来源：X` (the outlet a reprint names)
    notes: tuple[str, ...] = field(default=())

    @property
    def body_text(self) -> str:
        """The article's text, one paragraph per line."""
        return "\n".join(self.paragraphs)
