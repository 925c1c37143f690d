"""One poll of one source: fetch, parse, push what is new or changed, remember what was pushed.

The same code path serves `newsflow poll` and the Airflow DAGs. Polling state is saved only
after every pushed message was acknowledged by Kafka, so a crash re-pushes (at-least-once)
and never forgets.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.config import Settings
from pipeline.deadletter import dead_letter
from pipeline.emit import Emitter
from pipeline.errors import NewsflowError, PermanentError, RetryableError
from pipeline.retry import backoff_s
from pipeline.sources import feed, jekyll
from pipeline.sources.catalog import SourceConfig
from pipeline.sources.fetch import FetchLimits, FetchRetryable, fetch
from pipeline.state import FileStamp, SourceState, StateStore, utcnow
from schemas.models import RawItem, SourceType, Stage

# A source may ask to be polled less often (ttl, max-age, Retry-After), but never for longer than this.
MAX_SOURCE_DELAY_S = 6 * 3600


@dataclass
class PollReport:
    source_id: str
    fetched: int = 0
    new: int = 0
    unchanged: int = 0
    failed: int = 0
    deferred: int = 0
    not_modified: bool = False
    skipped: str | None = None
    dry_run: bool = False
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def line(self) -> str:
        if self.skipped:
            return f"{self.source_id}: skipped ({self.skipped})"
        extra = " (not modified)" if self.not_modified else ""
        extra += f", {self.deferred} deferred to the next poll" if self.deferred else ""
        extra += " [dry run: nothing pushed]" if self.dry_run else ""
        return (
            f"{self.source_id}: fetched={self.fetched} new={self.new} unchanged={self.unchanged} "
            f"failed={self.failed}{extra}"
        )


def limits(settings: Settings) -> FetchLimits:
    return FetchLimits(
        connect_timeout_s=settings.http_connect_timeout_s,
        total_timeout_s=settings.http_total_timeout_s,
        max_bytes=settings.max_feed_bytes,
        user_agent=settings.user_agent,
    )


def poll_source(
    source: SourceConfig,
    settings: Settings,
    emitter: Emitter,
    store: StateStore,
    *,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
) -> PollReport:
    now = now or utcnow()
    report = PollReport(source.id, dry_run=dry_run)
    with store.locked(source.id):
        state = store.load(source.id)
        due = _not_due_reason(state, now)
        if due and not force:
            report.skipped = due
            return report
        try:
            if source.type is SourceType.FEED:
                updated = _poll_feed(source, settings, emitter, state, report, force=force, now=now)
            else:
                updated = _poll_jekyll(source, settings, emitter, state, report, force=force, now=now)
            emitter.flush()
        except NewsflowError as exc:
            if not dry_run:
                store.save(source.id, _failed(state, exc, now))
            raise
        if not dry_run:
            store.save(
                source.id,
                updated.model_copy(
                    update={
                        "consecutive_failures": 0,
                        "last_error": None,
                        "last_attempt_at": now,
                        "last_success_at": now,
                        "next_attempt_at": None,
                    }
                ),
            )
    return report


def _not_due_reason(state: SourceState, now: datetime) -> str | None:
    if state.next_attempt_at and state.next_attempt_at > now and state.consecutive_failures == 0:
        return f"the source asked not to be polled before {state.next_attempt_at.isoformat()}"
    if state.min_interval_s and state.last_success_at:
        due = state.last_success_at + timedelta(seconds=state.min_interval_s)
        if due > now:
            return f"the source's ttl/max-age says next poll at {due.isoformat()}"
    return None


def _failed(state: SourceState, exc: NewsflowError, now: datetime) -> SourceState:
    failures = state.consecutive_failures + 1
    wait = backoff_s(failures, base_s=60, cap_s=6 * 3600)
    if isinstance(exc, FetchRetryable) and exc.retry_after_s:
        wait = max(wait, min(exc.retry_after_s, MAX_SOURCE_DELAY_S))
    return state.model_copy(
        update={
            "consecutive_failures": failures,
            "last_error": f"{type(exc).__name__}: {exc}",
            "last_attempt_at": now,
            "next_attempt_at": now + timedelta(seconds=wait),
        }
    )


def _push(
    item: RawItem, state: SourceState, pushed: dict[str, str], emitter: Emitter, report: PollReport, force: bool
) -> None:
    report.fetched += 1
    if not force and state.pushed.get(item.item_id) == item.content_hash:
        report.unchanged += 1
        return
    emitter.raw(item)
    pushed[item.item_id] = item.content_hash
    report.new += 1


def _poll_feed(
    source: SourceConfig,
    settings: Settings,
    emitter: Emitter,
    state: SourceState,
    report: PollReport,
    *,
    force: bool,
    now: datetime,
) -> SourceState:
    assert source.url is not None
    result = fetch(
        source.url, limits=limits(settings), validators=None if force else state.validators, trusted=source.trusted
    )
    if result.not_modified or result.content is None:
        report.not_modified = True
        return state.model_copy(update={"min_interval_s": _bounded(result.max_age_s)})
    parsed = feed.parse(
        result.content,
        source.info(),
        fetched_at=now,
        base_url=result.url,
        validators=result.validators,
        max_items=settings.max_items_per_poll,
        max_item_bytes=settings.max_item_bytes,
    )
    pushed = dict(state.pushed)
    for item in parsed.items:
        _push(item, state, pushed, emitter, report, force)
    for skip in parsed.skipped:
        report.failed += 1
        report.errors.append(f"entry #{skip.position}: {skip.reason}")
        emitter.dead(
            dead_letter(
                Stage.POLL,
                "invalid_entry",
                skip.reason,
                skip.model_dump_json(),
                source_id=source.id,
                details={"url": source.url, "position": skip.position},
            )
        )
    report.deferred = parsed.dropped
    interval = max(filter(None, [result.max_age_s, (parsed.ttl or 0) * 60]), default=None)
    return state.model_copy(
        update={"validators": result.validators, "pushed": pushed, "min_interval_s": _bounded(interval)}
    )


def _bounded(seconds: int | None) -> int | None:
    return min(seconds, MAX_SOURCE_DELAY_S) if seconds else None


def _post_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
            yield path


def _poll_jekyll(
    source: SourceConfig,
    settings: Settings,
    emitter: Emitter,
    state: SourceState,
    report: PollReport,
    *,
    force: bool,
    now: datetime,
) -> SourceState:
    assert source.path is not None
    if not source.path.is_dir():
        raise PermanentError(f"{source.path} is not a folder of posts")
    started = time.monotonic()
    pushed, files = dict(state.pushed), dict(state.files)
    handled = 0
    for path in _post_files(source.path):
        stat = path.stat()
        key = str(path)
        stamp = files.get(key)
        if not force and stamp and stamp.size == stat.st_size and stamp.mtime_ns == stat.st_mtime_ns:
            report.fetched += 1
            report.unchanged += 1
            continue
        if handled >= settings.max_items_per_poll or time.monotonic() - started > settings.max_poll_seconds:
            report.deferred += 1
            continue
        handled += 1
        data = _read_capped(path, settings.max_item_bytes)
        try:
            item = jekyll.parse(data, source.info(), path=key, fetched_at=now, max_bytes=settings.max_item_bytes)
        except PermanentError as exc:
            report.fetched += 1
            report.failed += 1
            report.errors.append(f"{path.name}: {exc}")
            emitter.dead(
                dead_letter(Stage.POLL, type(exc).__name__, str(exc), data, source_id=source.id, details={"path": key})
            )
            files[key] = FileStamp(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
            continue
        _push(item, state, pushed, emitter, report, force)
        files[key] = FileStamp(size=stat.st_size, mtime_ns=stat.st_mtime_ns, item_id=item.item_id)
    return state.model_copy(update={"pushed": pushed, "files": files})


def _read_capped(path: Path, cap: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise RetryableError(f"cannot read {path}: {exc.strerror}") from None
    return data
