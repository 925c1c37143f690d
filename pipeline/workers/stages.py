"""The table of stages. Each stage is a module with a handler (records in, an `Output` out); this table
says what each one consumes, with which consumer group and batch settings, and how its handler is built.

`newsflow worker <stage>` runs one entry; `newsflow worker all` runs every entry in one process.

A stage's modules are imported when it is opened, not with this table: an index worker never loads the
segmenter's dictionary or the language model (both are seconds of CPU at every start). A normalize worker
loads the Elasticsearch client: story grouping keeps its shared state there (`pipeline.stories`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pipeline.config import Settings
from pipeline.metrics import Metrics
from pipeline.workers.consume import StopFlag
from pipeline.workers.output import Output

log = logging.getLogger(__name__)


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


def _open_fetcher(settings: Settings, stop: StopFlag, metrics: Metrics) -> Handler:
    from pipeline.workers.fetch import PageFetcher

    return PageFetcher(settings, stop, metrics)


def _map_language_model(settings: Settings) -> None:
    """The language model's arrays mapped from the cache directory (unpacked there by the first worker to
    start); where that cannot be written, the model is read into memory as before."""
    from pipeline import language_files
    from pipeline.normalize import language

    try:
        language.use_unpacked_model(language_files.unpacked_model(settings.cache_dir))
    except (OSError, ValueError) as exc:
        log.warning("language model kept in memory: cannot unpack it under %s: %s", settings.cache_dir, exc)


class _Normalizer:
    """The pure transform, then the batch's stories from the story grouping's shared state (Elasticsearch)."""

    def __init__(self, settings: Settings) -> None:
        from datetime import timedelta

        from pipeline import search
        from pipeline.stories.grouping import StoryGrouping
        from pipeline.stories.store import StoryStore
        from pipeline.workers import normalize

        _map_language_model(settings)
        self._normalize = normalize
        self._es = search.client(settings)
        search.ensure_story_indices(self._es, settings)
        self._grouping = StoryGrouping(StoryStore(self._es, settings), timedelta(days=settings.story_window_days))

    def handle(self, records: Sequence[Any]) -> Output:
        output = self._normalize.handle(records)
        if not output.articles:
            return output
        decisions = self._grouping.assign(output.articles).decisions
        return self._normalize.with_stories(output, {article_id: d.story_id for article_id, d in decisions.items()})

    def close(self) -> None:
        self._es.close()


class _Indexer:
    def __init__(self, settings: Settings, stop: StopFlag, metrics: Metrics) -> None:
        from pipeline import search
        from pipeline.workers import index

        self._index = index
        self._es = search.client(settings)
        search.ensure_index(self._es, settings)
        self._alias = settings.index_alias
        self._stop = stop
        self._metrics = metrics
        self._batch_size = settings.index_batch_size
        self._refresh_every_s = settings.index_refresh_caught_up_ms / 1000
        self._refreshed_at = float("-inf")
        metrics.indexed([], 0, datetime.now(UTC))  # stored and stale at zero from the first scrape

    def handle(self, records: Sequence[Any]) -> Output:
        # Caught up (less than a batch waited): make this batch searchable now rather than at the next
        # periodic refresh, unless this worker did so a moment ago. Under a backlog, batches are full.
        now = time.monotonic()
        refresh = bool(self._refresh_every_s) and len(records) < self._batch_size
        refresh = refresh and now - self._refreshed_at >= self._refresh_every_s
        if refresh:
            self._refreshed_at = now
        return self._index.handle_batch(
            records, self._es, self._alias, wait=self._stop.wait, metrics=self._metrics, refresh=refresh
        )

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
            open=_open_fetcher,
        ),
        StageSpec(
            name="normalize",
            summary="news.raw -> news.articles",
            topics=lambda s: [s.topic_raw],
            group=lambda s: s.group_normalize,
            batch_size=lambda s: s.normalize_batch_size,
            batch_wait_ms=lambda s: s.normalize_batch_wait_ms,
            open=lambda settings, _stop, _metrics: _Normalizer(settings),
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
