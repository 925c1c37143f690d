"""The normalizer alone: the worker's per-message work, in this process, on CPU time.

Per message, as `pipeline.workers.normalize` does it: `RawItem.model_validate_json(bytes)` ->
`to_article` -> `emit.to_json(article)` (JSON bytes, as the emitter sends them). CPU time
(`time.process_time`) of a single-threaded loop is the cost per core, whatever else the machine is
doing. The split by stage times each module function `to_article` calls, in place, while the same
loop runs (see `stage_split`); what is left over ("other") is the glue of `to_article` (id check,
hash, building the call arguments).
"""

from __future__ import annotations

import cProfile
import pstats
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline import transform
from pipeline.emit import to_json
from pipeline.errors import PermanentError
from pipeline.transform import to_article
from schemas.models import Article, RawItem

WARMUP_ITEMS = 50  # loads the segmenter's dictionary and the language model before the clock starts
PROFILE_ITEMS = 1000
STAGE_ITEMS = 5000
PROFILE_TOP = 12

# Stages of `to_article`, by the module functions it calls (looked up in `pipeline.transform`'s namespace).
STAGE_FUNCTIONS = {
    "Markdown to HTML": ("render_post",),
    "HTML to text": ("html_paragraphs", "strip_trailer", "extract_attribution", "inline_text"),
    "outlet boilerplate": ("strip_outlet_boilerplate",),
    "tickers": ("tickers_in_text", "tickers_in_html"),
    "language detection": ("detect_language",),
    "segmentation + keywords": ("keywords",),
    "Article validation": ("Article",),
    "URL canonicalization": ("canonical_url",),
    "dates": ("parse_datetime", "check_plausible", "source_zone"),
    "summary": ("lead",),
    "tags": ("merge_tags",),
}
DECODE = "decode + validate RawItem"
ENCODE = "serialization (JSON bytes)"
OTHER = "other (id check, hash, glue)"


@dataclass
class Throughput:
    items: int
    dead: int
    cpu_s: float
    wall_s: float

    @property
    def per_s_per_core(self) -> float:
        return self.items / self.cpu_s if self.cpu_s > 0 else 0.0


@dataclass
class HotSpot:
    function: str
    self_pct: float
    cumulative_pct: float
    calls: int


@dataclass
class Profile:
    items: int
    self_time: list[HotSpot] = field(default_factory=list)  # where the time is spent, by function
    ours_cumulative: list[HotSpot] = field(default_factory=list)  # our functions, children included


def normalize_all(payloads: Sequence[bytes], now: datetime) -> tuple[Throughput, list[Article]]:
    """Run the worker's per-message work over every payload; its CPU and wall time, and the articles."""
    warm_up(payloads)
    articles: list[Article] = []
    dead = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for payload in payloads:
        try:
            article = to_article(RawItem.model_validate_json(payload), normalized_at=now)
        except PermanentError:
            dead += 1
            continue
        to_json(article)
        articles.append(article)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return Throughput(len(payloads), dead, cpu, wall), articles


def warm_up(payloads: Sequence[bytes]) -> None:
    now = datetime.now(UTC)
    for payload in payloads[:WARMUP_ITEMS]:
        try:
            to_json(to_article(RawItem.model_validate_json(payload), normalized_at=now))
        except PermanentError:
            continue


@contextmanager
def _stage_clocks(seconds: dict[str, float]) -> Iterator[None]:
    """Wrap the functions `to_article` calls so each adds its CPU time to its stage; restore them after."""
    originals: dict[str, Any] = {}

    def timed(stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[stage] += time.process_time() - start

        return wrapper

    try:
        for stage, names in STAGE_FUNCTIONS.items():
            seconds.setdefault(stage, 0.0)
            for name in names:
                originals[name] = getattr(transform, name)
                setattr(transform, name, timed(stage, originals[name]))
        yield
    finally:
        for name, function in originals.items():
            setattr(transform, name, function)


def stage_split(payloads: Sequence[bytes], now: datetime, *, limit: int = STAGE_ITEMS) -> dict[str, float]:
    """CPU seconds of each stage of the per-message work over the first `limit` payloads.

    The functions `to_article` calls are timed in place (wrapped for the duration), so the split is of
    exactly the work the worker does; "other" is the whole minus the stages (id check, hash, glue).
    """
    sample = payloads[:limit]
    warm_up(sample)
    seconds: dict[str, float] = {DECODE: 0.0}
    with _stage_clocks(seconds):
        start = time.process_time()
        for payload in sample:
            t0 = time.process_time()
            raw = RawItem.model_validate_json(payload)
            seconds[DECODE] += time.process_time() - t0
            try:
                article = transform.to_article(raw, normalized_at=now)
            except PermanentError:
                continue
            t0 = time.process_time()
            to_json(article)
            seconds[ENCODE] = seconds.get(ENCODE, 0.0) + time.process_time() - t0
        total = time.process_time() - start
    seconds[OTHER] = max(total - sum(seconds.values()), 0.0)
    return seconds


def profile(
    payloads: Sequence[bytes], now: datetime, *, limit: int = PROFILE_ITEMS, dump: Path | None = None
) -> Profile:
    """cProfile of the per-message work over the first `limit` payloads: the hot spots, in % of the time."""
    sample = payloads[:limit]
    profiler = cProfile.Profile()
    profiler.enable()
    for payload in sample:
        try:
            to_json(to_article(RawItem.model_validate_json(payload), normalized_at=now))
        except PermanentError:
            continue
    profiler.disable()
    stats = pstats.Stats(profiler)
    if dump is not None:
        stats.dump_stats(str(dump))
    return _hot_spots(stats, len(sample))


_STDLIB = re.compile(r".*/lib/python3\.\d+/")


def _label(key: tuple[str, int, str]) -> str:
    filename, line, name = key
    if filename == "~":
        return name  # a built-in, e.g. <method 'sub' of 're.Pattern' objects>
    for marker in ("/site-packages/", "/pipeline/", "/schemas/"):
        if marker in filename:
            prefix = "" if marker == "/site-packages/" else marker.strip("/") + "/"
            filename = prefix + filename.rsplit(marker, 1)[1]
            break
    else:
        filename = _STDLIB.sub("", filename)
    return f"{filename}:{line}({name})"


def _hot_spots(stats: pstats.Stats, items: int) -> Profile:
    table: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    total = sum(row[2] for row in table.values()) or 1.0

    def spot(key: tuple[str, int, str], row: tuple[Any, ...]) -> HotSpot:
        return HotSpot(_label(key), 100 * row[2] / total, 100 * row[3] / total, int(row[1]))

    by_self = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:PROFILE_TOP]
    ours = [(k, v) for k, v in table.items() if "/pipeline/" in k[0] and "/bench/" not in k[0]]
    by_cumulative = sorted(ours, key=lambda kv: kv[1][3], reverse=True)[:PROFILE_TOP]
    return Profile(items, [spot(k, v) for k, v in by_self], [spot(k, v) for k, v in by_cumulative])
