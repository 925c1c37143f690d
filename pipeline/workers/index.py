"""The index stage: news.articles -> bulk writes to Elasticsearch, bad documents to dead letters.

Offsets are committed (by the loop) only after every document of the batch is stored,
found stale (an older copy; external versioning keeps the newer), or dead-lettered.
Documents that got 429/5xx are retried with backoff, never skipped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from elasticsearch import Elasticsearch
from pydantic import ValidationError

from pipeline.deadletter import dead_letter
from pipeline.metrics import NO_METRICS, Metrics
from pipeline.retry import backoff_s
from pipeline.search import BulkResult, bulk_index
from pipeline.workers.consume import Interrupted
from pipeline.workers.output import Output
from schemas.models import Article, Stage

log = logging.getLogger(__name__)


def _latest_per_id(articles: list[Article]) -> list[Article]:
    """Within one batch keep the newest version of each article (one bulk action per _id)."""
    latest: dict[str, Article] = {}
    for article in articles:
        current = latest.get(article.id)
        if current is None or article.version >= current.version:
            latest[article.id] = article
    return list(latest.values())


def handle_batch(
    records: Sequence[Any],
    es: Elasticsearch,
    index: str,
    wait: Callable[[float], bool],
    metrics: Metrics = NO_METRICS,
) -> Output:
    """Store a batch; the dead letters of what could not be stored come back in the Output.
    `wait(seconds)` sleeps between retries and returns True if asked to stop."""
    output = Output()
    articles: list[Article] = []
    for record in records:
        try:
            articles.append(Article.model_validate_json(record.value))
        except ValidationError as exc:
            key = record.key.decode("utf-8", "replace") if record.key else None
            output.dead.append(
                dead_letter(
                    Stage.INDEX,
                    "invalid_article",
                    f"not a valid Article: {exc.errors()[0]['msg']}",
                    record.value or b"",
                    item_id=key,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                )
            )
    total = BulkResult()
    pending = _latest_per_id(articles)
    attempt = 0
    while pending:
        # Unreachable cluster: RetryableError propagates and the loop retries the whole batch;
        # documents already stored then come back as stale, which counts as success.
        started = time.perf_counter()
        result = bulk_index(es, pending, index)
        metrics.bulk_request(time.perf_counter() - started)
        total.ok += result.ok
        total.stale += result.stale
        total.stored.extend(result.stored)
        total.dead.extend(result.dead)
        pending = result.retry
        if pending:
            attempt += 1
            metrics.retried("documents")
            delay = backoff_s(attempt, base_s=0.5, cap_s=30.0)
            log.warning("%d documents got 429/5xx; retrying them in %.1fs", len(pending), delay)
            if wait(delay):
                raise Interrupted("stopped while retrying a batch; it stays uncommitted")
    for article, reason in total.dead:
        output.dead.append(
            dead_letter(
                Stage.INDEX,
                "rejected_by_index",
                reason,
                article.model_dump_json(),
                source_id=article.source_id,
                item_id=article.id,
            )
        )
    metrics.indexed(total.stored, total.stale, datetime.now(UTC))
    return output
