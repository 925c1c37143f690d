"""The normalize stage: news.raw -> (pure transform) -> news.articles, bad items to dead letters.

`handle` is pure: records in, articles and dead letters out. The stage then gives the batch's articles their
`story_id` (`with_stories`, from the story grouping's decisions) before anything is sent; when the
grouping's shared state is unavailable the batch is retried (RetryableError), never sent without stories.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from pipeline.deadletter import dead_letter
from pipeline.errors import PermanentError
from pipeline.provenance import first_document
from pipeline.transform import to_article
from pipeline.workers.output import Output
from schemas.models import Article, DeadLetter, RawItem, Stage

log = logging.getLogger(__name__)


def source_header(record: Any) -> str | None:
    for name, value in record.headers or ():
        if name == "source_id":
            return bytes(value).decode("utf-8", "replace")
    return None


def normalize_record(record: Any, now: datetime) -> Article | DeadLetter:
    """The Article of one raw record, or the dead letter that says why there is none."""
    key = record.key.decode("utf-8", "replace") if record.key else None
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    try:
        raw = RawItem.model_validate_json(record.value)
    except ValidationError as exc:
        reason = f"not a valid RawItem: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}"
        return dead_letter(
            Stage.NORMALIZE,
            "invalid_raw_item",
            reason,
            record.value or b"",
            source_id=source_header(record),
            item_id=key,
            **where,
        )
    try:
        return to_article(raw, normalized_at=now)
    except PermanentError as exc:
        return dead_letter(
            Stage.NORMALIZE,
            type(exc).__name__,
            str(exc),
            record.value,
            source_id=raw.source.id,
            item_id=raw.item_id,
            **where,
        )
    except Exception as exc:  # a bug on one item must not stop the worker
        log.exception(
            "unexpected error normalizing %s",
            raw.item_id,
            extra={"source_id": raw.source.id, "item_id": raw.item_id, **where},
        )
        return dead_letter(
            Stage.NORMALIZE,
            "internal_error",
            f"{type(exc).__name__}: {exc}",
            record.value,
            source_id=raw.source.id,
            item_id=raw.item_id,
            **where,
        )


def handle(records: Sequence[Any], now: datetime | None = None) -> Output:
    now = now or datetime.now(UTC)
    output = Output()
    for record in records:
        result = normalize_record(record, now)
        if isinstance(result, Article):
            output.articles.append(result)
        else:
            output.dead.append(result)
    return output


def with_stories(output: Output, stories: Mapping[str, str]) -> Output:
    """The output with every article's `story_id` set from `stories` (article id -> story id), and its own
    source in `sources`: each article is then the document its id gets when it is the first copy
    (`provenance.merge(None, article)`), which the index worker writes as it is."""
    output.articles = [first_document(article, stories[article.id]) for article in output.articles]
    return output
