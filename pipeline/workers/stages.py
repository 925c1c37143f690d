"""The table of stages. Each stage is a module with a handler (records in, an `Output` out); this table
says what each one consumes, with which consumer group and batch settings, and how its handler is built.

`newsflow worker <stage>` runs one entry; `newsflow worker all` runs every entry in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeline import search
from pipeline.config import Settings
from pipeline.metrics import Metrics
from pipeline.workers import index, normalize
from pipeline.workers.consume import StopFlag
from pipeline.workers.fetch import PageFetcher
from pipeline.workers.output import Output


class Handler(Protocol):
    def handle(self, records: Sequence[Any]) -> Output: ...
    def close(self) -> None: ...


Opener = Callable[[Settings, StopFlag, Metrics], Handler]


@dataclass(frozen=True)
class StageSpec:
    name: str
    summary: str
    topics: Callable[[Settings], list[str]]  # consumed; the first is the one dead letters are counted against
    group: Callable[[Settings], str]
    batch_size: Callable[[Settings], int]
    batch_wait_ms: Callable[[Settings], int]
    open: Opener


class _Normalizer:
    def handle(self, records: Sequence[Any]) -> Output:
        return normalize.handle(records)

    def close(self) -> None:
        return None


class _Indexer:
    def __init__(self, settings: Settings, stop: StopFlag, metrics: Metrics) -> None:
        self._es = search.client(settings)
        search.ensure_index(self._es, settings)
        self._alias = settings.index_alias
        self._stop = stop
        self._metrics = metrics
        metrics.indexed([], 0, datetime.now(UTC))  # stored and stale at zero from the first scrape

    def handle(self, records: Sequence[Any]) -> Output:
        return index.handle_batch(records, self._es, self._alias, wait=self._stop.wait, metrics=self._metrics)

    def close(self) -> None:
        self._es.close()


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec(
            name="fetch",
            summary="news.fetch, news.fetch.retry -> article pages -> news.raw",
            topics=lambda s: [s.topic_fetch, s.topic_fetch_retry],
            group=lambda s: s.group_fetch,
            batch_size=lambda s: s.fetch_batch_size,
            batch_wait_ms=lambda s: s.fetch_batch_wait_ms,
            open=PageFetcher,
        ),
        StageSpec(
            name="normalize",
            summary="news.raw -> news.articles",
            topics=lambda s: [s.topic_raw],
            group=lambda s: s.group_normalize,
            batch_size=lambda s: s.normalize_batch_size,
            batch_wait_ms=lambda s: s.normalize_batch_wait_ms,
            open=lambda _settings, _stop, _metrics: _Normalizer(),
        ),
        StageSpec(
            name="index",
            summary="news.articles -> Elasticsearch",
            topics=lambda s: [s.topic_articles],
            group=lambda s: s.group_index,
            batch_size=lambda s: s.index_batch_size,
            batch_wait_ms=lambda s: s.index_batch_wait_ms,
            open=_Indexer,
        ),
    )
}
