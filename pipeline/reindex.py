"""`newsflow index reindex`: build the next index version in full, then move the alias in one call.

The alias `<alias>` points at `<alias>-v<N>`. Reindexing creates `<alias>-v<N+1>` from the current
template, fills it while v<N> keeps serving, checks it, and swaps the alias with one `_aliases`
call, so a reader sees v<N> or v<N+1>, never a half-built index. The old index is kept (rolling
back is the same swap the other way) unless asked to delete it.

Two ways to fill the new index (this Elasticsearch has no `_reindex`):

- replay `news.articles` from the beginning of every partition (the default): the topic is the
  pipeline's record of every article, and re-reading it is how a mapping change takes effect;
- `from_index`: copy the current index (point in time + `search_after` + bulk), for when the
  topic no longer holds every article (retention); then replay only what the index worker had not
  committed yet when the copy began.

Either way each document is written with `pipeline.search.store_articles`, the index worker's merge
(`pipeline.provenance`): copies of one article in any order end as the same document (every source's
newest copy, the newest content), and versions are the same as in the old index. The live index
worker keeps writing to the alias (the old index) meanwhile: before the swap the new index catches up
with the topic's new records, and once more after it, for the few that reached the old index during the swap itself.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from kafka import TopicPartition
from kafka.errors import KafkaError
from pydantic import ValidationError

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.errors import ConfigError, NewsflowError, PermanentError, RetryableError
from pipeline.retry import backoff_s
from schemas.models import Article

Report = Callable[[str], None]
Offsets = dict[int, int]

PROGRESS_EVERY_S = 2.0
STALL_TIMEOUT_S = 60.0
MAX_WRITE_ATTEMPTS = 8
COUNT_CHECKS = 5
PIT_KEEP_ALIVE = "5m"


@dataclass
class Tally:
    """What one phase (or the whole run) read and wrote."""

    read: int = 0
    written: int = 0
    stale: int = 0
    invalid: int = 0
    rejected: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.read += other.read
        self.written += other.written
        self.stale += other.stale
        self.invalid += other.invalid
        self.rejected.extend(other.rejected)

    def line(self) -> str:
        extra = f", {self.invalid} invalid" if self.invalid else ""
        extra += f", {len(self.rejected)} rejected" if self.rejected else ""
        return f"{self.written} written, {self.stale} stale{extra}"


@dataclass
class ReindexReport:
    alias: str
    old: str
    new: str
    source: str  # "kafka" or "index"
    tally: Tally
    old_count: int
    new_count: int
    seconds: float
    old_deleted: bool


def index_version(alias: str, index: str) -> int:
    """N of `<alias>-v<N>`; anything else behind the alias is not ours to replace."""
    match = re.fullmatch(re.escape(alias) + r"-v(\d+)", index)
    if not match:
        raise ConfigError(f"alias {alias} points at {index}, not at a versioned index {alias}-v<N>")
    return int(match.group(1))


def current_index(es: Elasticsearch, alias: str) -> str:
    targets = search.alias_targets(es, alias)
    if not targets:
        raise ConfigError(f"alias {alias} does not exist: create it with `newsflow index init`")
    if len(targets) > 1:
        raise ConfigError(f"alias {alias} points at {len(targets)} indices ({', '.join(targets)}); expected one")
    return targets[0]


@contextmanager
def _es(what: str) -> Iterator[None]:
    """Elasticsearch failures of the reindex's own calls as our errors, with what was being done."""
    try:
        yield
    except (ApiError, TransportError) as exc:
        raise RetryableError(f"Elasticsearch failed while {what}: {exc}") from exc


class _Progress:
    """Prints `phase: done/total (pct%), written…` at most every PROGRESS_EVERY_S, and a last line."""

    def __init__(self, report: Report, phase: str, total: int, tally: Tally) -> None:
        self.report, self.phase, self.total, self.tally = report, phase, total, tally
        self.started = self.last = time.monotonic()

    def _line(self) -> str:
        pct = f" ({100 * self.tally.read // self.total}%)" if self.total else ""
        return f"{self.phase}: {self.tally.read}/{self.total}{pct}, {self.tally.line()}"

    def tick(self) -> None:
        if time.monotonic() - self.last >= PROGRESS_EVERY_S:
            self.last = time.monotonic()
            self.report(self._line())

    def done(self) -> None:
        if not self.total and not self.tally.read:
            self.report(f"{self.phase}: nothing new")
            return
        self.report(f"{self._line()} in {time.monotonic() - self.started:.1f}s")


def write(es: Elasticsearch, articles: Sequence[Article], index: str, tally: Tally) -> None:
    """Merge-write (as the index worker does); documents refused with 429/5xx are retried with backoff."""
    pending = list(articles)
    attempt = 0
    while pending:
        result = search.store_articles(es, pending, index)
        tally.written += result.ok
        tally.stale += result.stale
        tally.rejected.extend(f"{article.id}: {reason}" for article, reason in result.dead)
        pending = result.retry
        if pending:
            attempt += 1
            if attempt >= MAX_WRITE_ATTEMPTS:
                raise RetryableError(f"{len(pending)} documents still refused with 429/5xx after {attempt} attempts")
            time.sleep(backoff_s(attempt, base_s=0.5, cap_s=10.0))


def replay(
    settings: Settings,
    es: Elasticsearch,
    index: str,
    *,
    start: Offsets | None,
    report: Report,
    phase: str,
    batch_size: int,
) -> tuple[Offsets, Tally]:
    """Write the articles of `news.articles` from `start` (None: each partition's beginning; a partition
    missing from `start` also starts at its beginning) up to the end offsets of this moment.

    A consumer without a group, assigned every partition: nothing is committed, no worker is disturbed.
    Returns the end offsets it read up to, where the next catch-up starts.
    """
    topic = settings.topic_articles
    tally = Tally()
    try:
        consumer = kafka.consumer(settings, None, fetch_max_wait_ms=200)
        try:
            partitions = consumer.partitions_for_topic(topic)
            if not partitions:
                raise ConfigError(
                    f"topic {topic} does not exist: nothing to replay (create it with `newsflow topics init`)"
                )
            tps = [TopicPartition(topic, p) for p in sorted(partitions)]
            ends = {tp: int(offset) for tp, offset in consumer.end_offsets(tps).items()}
            beginnings = {tp: int(offset) for tp, offset in consumer.beginning_offsets(tps).items()}
            firsts = {tp: max(beginnings[tp], (start or {}).get(tp.partition, -1)) for tp in tps}
            consumer.assign(tps)
            for tp in tps:
                consumer.seek(tp, firsts[tp])
            progress = _Progress(report, phase, sum(max(ends[tp] - firsts[tp], 0) for tp in tps), tally)
            remaining = {tp for tp in tps if firsts[tp] < ends[tp]}
            consumer.pause(*(tp for tp in tps if tp not in remaining))  # nothing to read there
            last_record = time.monotonic()
            while remaining:
                polled = consumer.poll(timeout_ms=500, max_records=batch_size)
                records = [r for tp, batch in polled.items() for r in batch if r.offset < ends[tp]]
                if records:
                    last_record = time.monotonic()
                    tally.read += len(records)
                    write(es, _articles(records, tally), index, tally)
                    progress.tick()
                elif time.monotonic() - last_record > STALL_TIMEOUT_S:
                    raise RetryableError(f"no records from {topic} for {STALL_TIMEOUT_S:.0f}s before its end offsets")
                finished = {tp for tp in remaining if consumer.position(tp) >= ends[tp]}
                consumer.pause(*finished)  # past the end offsets of the start: no more fetches there
                remaining -= finished
            progress.done()
            return {tp.partition: offset for tp, offset in ends.items()}, tally
        finally:
            consumer.close(autocommit=False)
    except KafkaError as exc:
        raise RetryableError(f"cannot replay {topic}: {exc}") from exc


def _articles(records: Sequence[Any], tally: Tally) -> list[Article]:
    articles: list[Article] = []
    for record in records:
        try:
            articles.append(Article.model_validate_json(record.value or b""))
        except ValidationError:  # the index worker dead-lettered it; it is in no index
            tally.invalid += 1
    return articles


def copy_index(es: Elasticsearch, old: str, new: str, *, report: Report, batch_size: int, expected: int) -> Tally:
    """Copy every document of `old` into `new`: a point in time (one consistent view), pages in
    `_shard_doc` order with `search_after`, written with their own versions."""
    tally = Tally()
    progress = _Progress(report, f"copy {old}", expected, tally)
    with _es(f"opening a point in time on {old}"):
        pit = str(es.open_point_in_time(index=old, keep_alive=PIT_KEEP_ALIVE)["id"])
    try:
        after: list[Any] | None = None
        while True:
            with _es(f"reading {old}"):
                page = es.search(
                    pit={"id": pit, "keep_alive": PIT_KEEP_ALIVE},
                    sort=["_shard_doc"],
                    size=batch_size,
                    search_after=after,
                    track_total_hits=False,
                    version=True,
                )
            pit = str(page.get("pit_id", pit))
            hits = page["hits"]["hits"]
            if not hits:
                break
            tally.read += len(hits)
            articles: list[Article] = []
            for hit in hits:
                try:
                    articles.append(Article.model_validate(hit["_source"]))
                except ValidationError as exc:
                    tally.invalid += 1
                    tally.rejected.append(f"{hit['_id']}: not a valid Article: {exc.errors()[0]['msg']}")
            write(es, articles, new, tally)
            progress.tick()
            after = list(hits[-1]["sort"])
    finally:
        with suppress(ApiError, TransportError):  # it expires by itself anyway
            es.options(ignore_status=404).close_point_in_time(id=pit)
    progress.done()
    return tally


def committed_offsets(settings: Settings) -> Offsets:
    """Offsets the index worker committed on `news.articles`: every record before them is in the index."""
    try:
        with kafka.admin(settings) as admin:
            committed = admin.list_group_offsets(settings.group_index).get(settings.group_index, {})
    except KafkaError as exc:
        raise RetryableError(f"cannot read the offsets of group {settings.group_index}: {exc}") from exc
    return {
        tp.partition: int(meta.offset)
        for tp, meta in committed.items()
        if tp.topic == settings.topic_articles and meta.offset >= 0
    }


def _count(es: Elasticsearch, index: str) -> int:
    with _es(f"counting {index}"):
        return int(es.count(index=index)["count"])


def _refresh_interval(es: Elasticsearch, index: str) -> str:
    with _es(f"reading the settings of {index}"):
        got = es.indices.get_settings(index=index, name="index.refresh_interval", include_defaults=True)[index]
    flat = got.get("settings", {}).get("index", {}) or got.get("defaults", {}).get("index", {})
    return str(flat.get("refresh_interval", "1s"))


def _set_refresh(es: Elasticsearch, index: str, interval: str) -> None:
    with _es(f"setting the refresh interval of {index}"):
        es.indices.put_settings(index=index, settings={"index": {"refresh_interval": interval}})


def _build(
    settings: Settings,
    es: Elasticsearch,
    old: str,
    new: str,
    *,
    from_index: bool,
    report: Report,
    batch_size: int,
    tally: Tally,
) -> tuple[Offsets, int, int]:
    """Fill `new` and check it; returns where the topic was read up to and both final counts."""
    interval = _refresh_interval(es, new)
    _set_refresh(es, new, "-1")  # nobody reads it yet: refresh once at the end
    start: Offsets | None = None
    if from_index:
        start = committed_offsets(settings)  # before the copy's point in time: together they cover everything
        with _es(f"refreshing {old}"):
            es.indices.refresh(index=old)
        tally.add(copy_index(es, old, new, report=report, batch_size=batch_size, expected=_count(es, old)))
    phase = "catch up " if from_index else "replay "
    ends, read = replay(
        settings, es, new, start=start, report=report, phase=phase + settings.topic_articles, batch_size=batch_size
    )
    tally.add(read)
    _set_refresh(es, new, interval)
    for check in range(1, COUNT_CHECKS + 1):
        ends, read = replay(
            settings,
            es,
            new,
            start=ends,
            report=report,
            phase=f"catch up {settings.topic_articles}",
            batch_size=batch_size,
        )
        tally.add(read)
        with _es(f"refreshing {old} and {new}"):
            es.indices.refresh(index=f"{old},{new}")
        old_count, new_count = _count(es, old), _count(es, new)
        report(f"check {check}: {new} has {new_count} documents, {old} has {old_count}")
        if new_count >= old_count:
            return ends, old_count, new_count
        time.sleep(1.0)
    hint = "" if from_index else f"; if {settings.topic_articles} no longer holds every article, use --from-index"
    rejected = f" ({len(tally.rejected)} rejected, e.g. {tally.rejected[0]})" if tally.rejected else ""
    raise PermanentError(
        f"{new} has {new_count} documents but {old} has {old_count}{rejected}: not swapping, {old} keeps serving{hint}"
    )


def _discard(es: Elasticsearch, alias: str, old: str, new: str, report: Report) -> None:
    """After a failure: delete the unfinished index, unless the swap went through after all (a timeout)."""
    try:
        if new in search.alias_targets(es, alias):
            report(f"reindex failed after the swap took effect: {alias} points at {new}")
            return
        es.options(ignore_status=404).indices.delete(index=new)
        report(f"reindex failed: deleted the unfinished {new}; {alias} still points at {old}")
    except Exception as exc:  # noqa: BLE001 - the failure that brought us here is the one to raise
        report(f"reindex failed, and {new} could not be checked or deleted ({exc}): delete it once the alias is safe")


def reindex(
    settings: Settings,
    *,
    from_index: bool = False,
    delete_old: bool = False,
    report: Report = print,
    batch_size: int | None = None,
) -> ReindexReport:
    """Build `<alias>-v<N+1>`, check it, swap the alias to it atomically; see the module docstring."""
    started = time.monotonic()
    batch = batch_size or settings.index_batch_size
    alias = settings.index_alias
    es = search.client(settings, timeout_s=120.0)
    try:
        old = current_index(es, alias)
        version = index_version(alias, old) + 1
        new = f"{alias}-v{version}"
        with _es(f"checking for {new}"):
            if es.indices.exists(index=new):
                raise ConfigError(
                    f"{new} already exists (left by an interrupted reindex?); delete it first: "
                    f"curl -X DELETE '{settings.es_urls[0].rstrip('/')}/{new}'"
                )
        how = f"copying {old}" if from_index else f"replaying {settings.topic_articles} from the beginning"
        report(f"reindex: {alias} -> {old}; building {new} by {how}")
        search.ensure_index(es, settings, version=version, point_alias=False)
        tally = Tally()
        try:
            ends, old_count, new_count = _build(
                settings, es, old, new, from_index=from_index, report=report, batch_size=batch, tally=tally
            )
            search.swap_alias(es, alias, old, new)
        except BaseException:
            _discard(es, alias, old, new, report)
            raise
        report(f"swapped: {alias} -> {new} (one _aliases call)")
        try:  # what the index worker wrote to the old index during the swap itself
            _, read = replay(
                settings,
                es,
                new,
                start=ends,
                report=report,
                phase=f"catch up {settings.topic_articles}",
                batch_size=batch,
            )
        except NewsflowError as exc:
            raise RetryableError(
                f"{alias} now points at {new}, but the last catch-up from {settings.topic_articles} failed ({exc}): "
                f"articles indexed during the swap may be missing from it; reindex again to be sure"
            ) from exc
        tally.add(read)
        if delete_old:
            with _es(f"deleting {old}"):
                es.indices.delete(index=old)
            report(f"deleted {old}")
        else:
            where = settings.es_urls[0].rstrip("/")
            report(f"kept {old}; roll back by swapping the alias back, or delete it: curl -X DELETE '{where}/{old}'")
        return ReindexReport(
            alias=alias,
            old=old,
            new=new,
            source="index" if from_index else "kafka",
            tally=tally,
            old_count=old_count,
            new_count=new_count,
            seconds=time.monotonic() - started,
            old_deleted=delete_old,
        )
    finally:
        es.close()


def command(settings: Settings, *, from_index: bool, delete_old: bool) -> int:
    """The CLI: progress lines, then one summary line."""
    done = reindex(settings, from_index=from_index, delete_old=delete_old)
    print(
        f"reindex: done in {done.seconds:.1f}s: {done.alias} -> {done.new} ({done.new_count} documents; "
        f"{done.old} had {done.old_count}); {done.tally.line()}"
    )
    for reason in done.tally.rejected[:5]:
        print(f"    rejected: {reason}")
    return 0
