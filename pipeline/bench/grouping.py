"""Story grouping's cost: CPU per article in the normalize worker, and what its shared state costs per batch.

- *fingerprint*: `article_fingerprints` (shingles, bottom-k and one-permutation sketches, LSH keys) over
  batches of the normalize batch size, CPU time per article over the seed-sized articles the normalizer pass
  produced (after a warm-up);
- *decisions*: the pure assignment of batches (`first_pass` with the batch's own LSH candidates), per article;
- their sum, as a share of the normalizer's own CPU per article in the same run (the budget is 10%);
- *datasketch*: the maintained library's MinHash (128 permutations, `update_batch`) over the same texts'
  character 3-grams, per article, for comparison (optional: installed with the bench extra);
- *shared state*: `StoryGrouping.assign` against Elasticsearch, in this run's own story indices, over
  batches of the normalize batch size: wall time and requests per batch, and this process's CPU per
  article for the whole assignment (fingerprints, decisions and the store's requests and answers; every
  article founds a story here, the most expensive case: each batch also rechecks).
"""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pipeline import search
from pipeline.config import Settings
from pipeline.stories.assign import first_pass
from pipeline.stories.grouping import StoryGrouping, article_fingerprints
from pipeline.stories.sketch import Fingerprint, title_text
from pipeline.stories.store import StoryStore
from schemas.models import Article

WARMUP = 50
STORE_ARTICLES = 2000
DATASKETCH_ARTICLES = 300


@dataclass
class GroupingCost:
    articles: int
    fingerprint_us: float
    decisions_us: float
    normalizer_us: float
    datasketch_us: float | None
    datasketch_version: str | None
    store_batches: int
    store_batch_size: int
    store_ms_per_batch: float | None
    store_requests_per_batch: float | None
    store_cpu_us: float | None  # this process's CPU per article for the whole assignment (store calls included)

    @property
    def us_per_article(self) -> float:
        return self.fingerprint_us + self.decisions_us

    @property
    def share_of_normalizer(self) -> float | None:
        return self.us_per_article / self.normalizer_us if self.normalizer_us else None


def _cpu_us(work: Any, count: int) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) / max(count, 1) * 1e6


def _datasketch(articles: Sequence[Article]) -> tuple[float | None, str | None]:
    try:
        module: Any = importlib.import_module("datasketch")
    except ImportError:
        return None, None

    def shingles(article: Article) -> list[bytes]:
        text = title_text(article.title) + title_text(article.body_text)
        return [text[i : i + 3].encode("utf-8") for i in range(max(len(text) - 2, 1))]

    def run() -> None:
        for article in articles:
            sketch = module.MinHash(num_perm=128)
            sketch.update_batch(shingles(article))

    return _cpu_us(run, len(articles)), importlib.metadata.version("datasketch")


def measure(settings: Settings, articles: Sequence[Article], normalizer_us: float) -> GroupingCost:
    """`settings`: this run's scratch settings for the story indices (removed by the bench's cleanup)."""
    window = timedelta(days=settings.story_window_days)
    size = settings.normalize_batch_size
    article_fingerprints(articles[:WARMUP])
    chunks = [articles[i : i + size] for i in range(0, len(articles), size)]  # as the worker's batches come
    batches: list[list[Fingerprint]] = []
    fingerprint_us = _cpu_us(lambda: batches.extend(article_fingerprints(chunk) for chunk in chunks), len(articles))
    fingerprints = [fp for batch in batches for fp in batch]
    decisions_us = _cpu_us(lambda: [first_pass(batch, {}, {}, window) for batch in batches], len(fingerprints))
    datasketch_us, datasketch_version = _datasketch(articles[:DATASKETCH_ARTICLES])

    sample = list(articles[:STORE_ARTICLES])
    es = search.client(settings, timeout_s=60.0)
    try:
        search.ensure_story_indices(es, settings)
        store = StoryStore(es, settings)
        grouping = StoryGrouping(store, window)
        parts = [sample[i : i + size] for i in range(0, len(sample), size)]
        gc.collect()
        started, cpu = time.perf_counter(), time.process_time()
        for part in parts:
            grouping.assign(part)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        requests = store.requests
    finally:
        es.close()
    return GroupingCost(
        articles=len(articles),
        fingerprint_us=fingerprint_us,
        decisions_us=decisions_us,
        normalizer_us=normalizer_us,
        datasketch_us=datasketch_us,
        datasketch_version=datasketch_version,
        store_batches=len(parts),
        store_batch_size=size,
        store_ms_per_batch=elapsed * 1000 / len(parts) if parts else None,
        store_requests_per_batch=requests / len(parts) if parts else None,
        store_cpu_us=cpu / len(sample) * 1e6 if sample else None,
    )
