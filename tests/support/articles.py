"""One way for tests to make an Article document: sensible defaults, any field overridden."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.models import Article, SourceType

WHEN = datetime(2024, 1, 1, tzinfo=UTC)


def make_article(article_id: str, *, title: str, body: str = "正文", when: datetime = WHEN, **fields: Any) -> Article:
    """An Article with id, title and body given; fetch/normalize times `when`; `fields` override the rest."""
    values: dict[str, Any] = {
        "id": article_id,
        "url": f"https://news.example/{article_id}",
        "title": title,
        "summary": body.split("\n")[0][:120],
        "body_text": body,
        "published_at": when,
        "language": "zh",
        "outlet": "测试",
        "category": "test",
        "tags": [],
        "keywords": [],
        "char_count": len(body),
        "content_hash": f"hash-{article_id}",
        "source_id": "test-source",
        "source_type": SourceType.FEED,
        "fetched_at": when,
        "normalized_at": when,
        "version": 1,
        "pipeline_version": "test",
    }
    values.update(fields)
    return Article(**values)
