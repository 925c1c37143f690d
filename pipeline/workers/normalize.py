"""`newsflow worker normalize`: news.raw -> (pure transform) -> news.articles, bad items to dead letters."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from pipeline.deadletter import dead_letter
from pipeline.emit import Emitter
from pipeline.errors import PermanentError
from pipeline.transform import to_article
from schemas.models import RawItem, Stage

log = logging.getLogger(__name__)


def _source_header(record: Any) -> str | None:
    for name, value in record.headers or ():
        if name == "source_id":
            return bytes(value).decode("utf-8", "replace")
    return None


def normalize_record(record: Any, emitter: Emitter, now: datetime) -> bool:
    """Transform one raw record; emit an Article or a dead letter. True if an Article was emitted."""
    key = record.key.decode("utf-8", "replace") if record.key else None
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    try:
        raw = RawItem.model_validate_json(record.value)
    except ValidationError as exc:
        reason = f"not a valid RawItem: {exc.errors()[0]['msg']} at {exc.errors()[0]['loc']}"
        emitter.dead(
            dead_letter(
                Stage.NORMALIZE,
                "invalid_raw_item",
                reason,
                record.value or b"",
                source_id=_source_header(record),
                item_id=key,
                **where,
            )
        )
        return False
    try:
        article = to_article(raw, normalized_at=now)
    except PermanentError as exc:
        emitter.dead(
            dead_letter(
                Stage.NORMALIZE,
                type(exc).__name__,
                str(exc),
                record.value,
                source_id=raw.source.id,
                item_id=raw.item_id,
                **where,
            )
        )
        return False
    except Exception as exc:  # a bug on one item must not stop the worker
        log.exception(
            "unexpected error normalizing %s",
            raw.item_id,
            extra={"source_id": raw.source.id, "item_id": raw.item_id, **where},
        )
        emitter.dead(
            dead_letter(
                Stage.NORMALIZE,
                "internal_error",
                f"{type(exc).__name__}: {exc}",
                record.value,
                source_id=raw.source.id,
                item_id=raw.item_id,
                **where,
            )
        )
        return False
    emitter.article(article)
    return True


def handle_batch(records: Sequence[Any], emitter: Emitter) -> None:
    now = datetime.now(UTC)
    for record in records:
        normalize_record(record, emitter, now)
    emitter.flush()
