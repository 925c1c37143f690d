"""The index stage: news.articles -> bulk writes to Elasticsearch, bad documents to dead letters.

Offsets are committed (by the loop) only after every document of the batch is stored (merged with
the copies other sources brought: `pipeline.provenance`), found stale (an older copy changes nothing),
or dead-lettered. Documents that got 429/5xx are retried with backoff, never skipped.

An article message was validated whole by the normalizer (`Article`, with its own source in `sources`:
the document its article has when it is the first copy) and is written as it is when its article has
no document yet: this stage reads only what it needs of it (`ArticleHead`: id, version, dates, source,
title) with one strict decode, and `create`s the document from the message bytes. When the article
has a document already (the create answers 409) or the batch holds several copies of it, the copies
are read whole and merged into the document (`pipeline.search.store_articles`: read in real time,
merged, written conditionally on the version read). A message that is no JSON object,
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
from pydantic import ValidationError

from pipeline.deadletter import dead_letter
from pipeline.metrics import NO_METRICS, Metrics
from pipeline.retry import Outcome, backoff_s
from pipeline.search import Document, bulk_write, store_articles
from pipeline.workers.consume import Interrupted
from pipeline.workers.output import Output
from schemas.models import Article, Stage

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
    story_id: str | None = None  # None: a message from before stories, merged (and given a story) instead


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


def split_copies(messages: Sequence[Message]) -> tuple[list[Message], list[Message]]:
    """The messages whose article is alone in the batch, and those of articles with several copies in it
    (from several sources, or repeated) or written before articles had stories: those are merged
    (`pipeline.provenance`) before they are written."""
    count: dict[str, int] = {}
    for message in messages:
        count[message.head.id] = count.get(message.head.id, 0) + 1
    alone = [m for m in messages if count[m.head.id] == 1 and m.head.story_id is not None]
    copies = [m for m in messages if count[m.head.id] > 1 or m.head.story_id is None]
    return alone, copies


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
    stored: list[Message | Article] = []
    stale = 0
    rejected: list[tuple[str, str, bytes, str]] = []  # source id, article id, message, reason
    new, merging = split_copies(messages)
    attempt = 0
    while new or merging:
        # Unreachable cluster: RetryableError propagates and the loop retries the whole batch;
        # documents already stored then come back as stale, which counts as success.
        started = time.perf_counter()
        retry_new: list[Message] = []
        if new:  # the common case: created from the message bytes as they are (the normalizer's document)
            documents = [Document(m.head.id, m.head.version, m.value) for m in new]
            outcomes = bulk_write(es, documents, index, refresh=refresh, create=True)
            for message, (outcome, reason) in zip(new, outcomes, strict=True):
                if outcome is Outcome.OK:
                    stored.append(message)
                elif outcome is Outcome.STALE:  # the article has a document already: merge into it
                    merging.append(message)
                elif outcome is Outcome.RETRY:
                    retry_new.append(message)
                else:
                    rejected.append((message.head.source_id, message.head.id, message.value, reason or "rejected"))
        retry_merging: list[Message] = []
        if merging:
            articles: list[Article] = []
            by_id: dict[str, list[Message]] = {}
            for message in merging:
                try:
                    articles.append(Article.model_validate_json(message.value))
                    by_id.setdefault(message.head.id, []).append(message)
                except ValidationError as exc:
                    reason = f"not a valid Article: {exc.errors()[0]['msg']}"
                    rejected.append((message.head.source_id, message.head.id, message.value, reason))
            if articles:
                result = store_articles(es, articles, index, refresh=refresh)
                stored.extend(result.stored)
                stale += result.stale
                retry_ids = {article.id for article in result.retry}
                retry_merging = [m for article_id in sorted(retry_ids) for m in by_id[article_id]]
                for article, reason in result.dead:
                    rejected.append((article.source_id, article.id, article.model_dump_json().encode(), reason))
        metrics.bulk_request(time.perf_counter() - started)
        new, merging = retry_new, retry_merging
        if new or merging:
            attempt += 1
            metrics.retried("documents")
            delay = backoff_s(attempt, base_s=0.5, cap_s=30.0)
            log.warning("%d documents got 429/5xx; retrying them in %.1fs", len(new) + len(merging), delay)
            if wait(delay):
                raise Interrupted("stopped while retrying a batch; it stays uncommitted")
    for source_id, article_id, value, reason in rejected:
        output.dead.append(
            dead_letter(Stage.INDEX, "rejected_by_index", reason, value, source_id=source_id, item_id=article_id)
        )
    metrics.indexed(stored, stale, datetime.now(UTC))
    return output
