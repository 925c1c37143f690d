"""The index stage: news.articles -> bulk writes to Elasticsearch, bad documents to dead letters.

Offsets are committed (by the loop) only after every document of the batch is stored,
found stale (an older copy; external versioning keeps the newer), or dead-lettered.
Documents that got 429/5xx are retried with backoff, never skipped.

An article message was validated whole by the normalizer (`Article`) and is written as it is: this
stage reads only what it needs of it (`ArticleHead`: id, version, dates, source, title) with one
strict decode, and builds the bulk request from the message bytes. A message that is no JSON object,
or lacks one of those fields, or has one of the wrong type, is a dead letter (`invalid_article`);
whatever else is wrong with it the index's strict mapping refuses (`rejected_by_index`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import msgspec
from elasticsearch import Elasticsearch

from pipeline.deadletter import dead_letter
from pipeline.metrics import NO_METRICS, Metrics
from pipeline.retry import Outcome, backoff_s
from pipeline.search import Document, bulk_write
from pipeline.workers.consume import Interrupted
from pipeline.workers.output import Output
from schemas.models import Stage

log = logging.getLogger(__name__)


class ArticleHead(msgspec.Struct, frozen=True):
    """The fields of an article message this stage reads; the others pass through untouched."""

    schema_version: Literal[1]
    id: str
    version: int
    source_id: str
    title: str
    fetched_at: datetime
    published_at: datetime | None = None


_HEAD = msgspec.json.Decoder(ArticleHead)


@dataclass(frozen=True)
class Message:
    """An article message: what was read of it, and its bytes."""

    head: ArticleHead
    value: bytes

    @property
    def fetched_at(self) -> datetime:
        return self.head.fetched_at

    @property
    def published_at(self) -> datetime | None:
        return self.head.published_at


def read_head(value: bytes) -> ArticleHead:
    """The head of an article message; raises ValueError with the reason when it has none."""
    try:
        head = _HEAD.decode(value)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValueError(str(exc)) from None
    if head.fetched_at.tzinfo is None or (head.published_at is not None and head.published_at.tzinfo is None):
        raise ValueError("dates must carry their offset")
    return head


def _latest_per_id(messages: list[Message]) -> list[Message]:
    """Within one batch keep the newest version of each article (one bulk action per _id)."""
    latest: dict[str, Message] = {}
    for message in messages:
        current = latest.get(message.head.id)
        if current is None or message.head.version >= current.head.version:
            latest[message.head.id] = message
    return list(latest.values())


def handle_batch(
    records: Sequence[Any],
    es: Elasticsearch,
    index: str,
    wait: Callable[[float], bool],
    metrics: Metrics = NO_METRICS,
    *,
    refresh: bool = False,
) -> Output:
    """Store a batch; the dead letters of what could not be stored come back in the Output.
    `wait(seconds)` sleeps between retries and returns True if asked to stop; with `refresh` the bulk
    requests make their documents searchable before they answer."""
    output = Output()
    messages: list[Message] = []
    for record in records:
        value = record.value or b""
        try:
            messages.append(Message(read_head(value), value))
        except ValueError as exc:
            key = record.key.decode("utf-8", "replace") if record.key else None
            output.dead.append(
                dead_letter(
                    Stage.INDEX,
                    "invalid_article",
                    f"not a valid Article: {exc}",
                    value,
                    item_id=key,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
            )
    stored: list[Message] = []
    stale = 0
    rejected: list[tuple[Message, str]] = []
    pending = _latest_per_id(messages)
    attempt = 0
    while pending:
        # Unreachable cluster: RetryableError propagates and the loop retries the whole batch;
        # documents already stored then come back as stale, which counts as success.
        started = time.perf_counter()
        documents = [Document(m.head.id, m.head.version, m.value) for m in pending]
        outcomes = bulk_write(es, documents, index, refresh=refresh)
        metrics.bulk_request(time.perf_counter() - started)
        retry: list[Message] = []
        for message, (outcome, reason) in zip(pending, outcomes, strict=True):
            if outcome is Outcome.OK:
                stored.append(message)
            elif outcome is Outcome.STALE:
                stale += 1
            elif outcome is Outcome.RETRY:
                retry.append(message)
            else:
                rejected.append((message, reason or "rejected"))
        pending = retry
        if pending:
            attempt += 1
            metrics.retried("documents")
            delay = backoff_s(attempt, base_s=0.5, cap_s=30.0)
            log.warning("%d documents got 429/5xx; retrying them in %.1fs", len(pending), delay)
            if wait(delay):
                raise Interrupted("stopped while retrying a batch; it stays uncommitted")
    for message, reason in rejected:
        output.dead.append(
            dead_letter(
                Stage.INDEX,
                "rejected_by_index",
                reason,
                message.value,
                source_id=message.head.source_id,
                item_id=message.head.id,
            )
        )
    metrics.indexed(stored, stale, datetime.now(UTC))
    return output
