"""One poll of one source: list it, push what is new or changed, remember what was pushed.

The same code path serves `newsflow poll` and the Airflow DAGs. How a source is read depends on
its type and lives in that type's module (`pipeline.polling.<type>`), found in `LISTERS`; everything
after the listing is the same for every type. Polling state is saved only after every pushed message
was acknowledged by Kafka, so a crash re-pushes (at-least-once) and never forgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from pipeline.config import Settings
from pipeline.deadletter import dead_letter
from pipeline.emit import Emitter
from pipeline.errors import ConfigError, NewsflowError
from pipeline.pages.teaser import page_reason
from pipeline.polling import feed as feed_type
from pipeline.polling import git as git_type
from pipeline.polling import jekyll as jekyll_type
from pipeline.polling import sitemap as sitemap_type
from pipeline.polling.listing import MAX_SOURCE_DELAY_S, Fetcher, Listing, ListItems, PollContext
from pipeline.retry import backoff_s
from pipeline.sources.catalog import SourceConfig
from pipeline.sources.fetch import PUBLIC_ONLY, AddressPolicy, FetchLimits, FetchResult, FetchRetryable, fetch
from pipeline.state import SourceState, StateStore, utcnow
from schemas.models import FetchRequest, RawItem, SourceType, Stage, Validators

log = logging.getLogger("newsflow.poll")

# How each `type:` of the sources file is read. A new source type adds its module and one line here.
LISTERS: dict[SourceType, ListItems] = {
    SourceType.FEED: feed_type.list_items,
    SourceType.JEKYLL: jekyll_type.list_items,
    SourceType.GIT: git_type.list_items,
    SourceType.SITEMAP: sitemap_type.list_items,
}


@dataclass
class PollReport:
    source_id: str
    fetched: int = 0
    read: int = 0
    new: int = 0
    unchanged: int = 0
    to_fetch: int = 0
    failed: int = 0
    deferred: int = 0
    deleted: int = 0
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
        extra += f", {self.to_fetch} of them to fetch their page" if self.to_fetch else ""
        extra += f", {self.deferred} deferred to the next poll" if self.deferred else ""
        extra += f", {self.deleted} deleted at the source (kept in the index)" if self.deleted else ""
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


def fetcher(settings: Settings, policy: AddressPolicy = PUBLIC_ONLY) -> Fetcher:
    """The HTTP client with the settings' limits and `policy` bound."""
    bound = limits(settings)

    def get(url: str, *, validators: Validators | None, trusted: bool) -> FetchResult:
        return fetch(url, limits=bound, validators=validators, trusted=trusted, policy=policy)

    return get


def lister(source_type: SourceType) -> ListItems:
    try:
        return LISTERS[source_type]
    except KeyError:
        raise ConfigError(f"source type {source_type.value!r} cannot be polled by this version") from None


def poll_source(
    source: SourceConfig,
    settings: Settings,
    emitter: Emitter,
    store: StateStore,
    *,
    force: bool = False,
    dry_run: bool = False,
    now: datetime | None = None,
    policy: AddressPolicy = PUBLIC_ONLY,
) -> PollReport:
    now = now or utcnow()
    report = PollReport(source.id, dry_run=dry_run)
    list_items = lister(source.type)
    with store.locked(source.id):
        state = store.load(source.id)
        due = _not_due_reason(state, now)
        if due and not force:
            report.skipped = due
            return report
        context = PollContext(settings=settings, now=now, fetch=fetcher(settings, policy), force=force, policy=policy)
        try:
            listing = list_items(source, state, context)
            updated = _emit(source, settings, state, listing, emitter, report, force=force)
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


def _emit(
    source: SourceConfig,
    settings: Settings,
    state: SourceState,
    listing: Listing,
    emitter: Emitter,
    report: PollReport,
    *,
    force: bool,
) -> SourceState:
    """Send what is new or changed and the dead letters; the state to save once they are acknowledged."""
    report.fetched = listing.fetched
    report.read = listing.read
    report.unchanged = listing.unchanged
    report.deferred = listing.deferred
    report.not_modified = listing.not_modified
    pushed = dict(state.pushed)
    for item in listing.items:
        _push(item, pushed, emitter, report, force, lambda new: route(new, source, settings, emitter, report))
    for rejected in listing.rejected:
        report.failed += 1
        report.errors.append(f"{rejected.where}: {rejected.reason}")
        emitter.dead(
            dead_letter(
                Stage.POLL,
                rejected.error_type,
                rejected.reason,
                rejected.payload,
                source_id=source.id,
                details=rejected.details,
            )
        )
    for gone in listing.deleted:
        report.deleted += 1
        log.warning("post deleted at the source, kept in the index: %s", gone, extra={"source_id": source.id})
    return listing.state.model_copy(update={"pushed": pushed})


def route(item: RawItem, source: SourceConfig, settings: Settings, emitter: Emitter, report: PollReport) -> None:
    """Send a new or changed item on: to the fetch stage when its article is on its page (`fetch_article`),
    else straight to the normalizer. The poll never waits for pages."""
    reason = page_reason(item, source.article_mode, settings.fetch_short_chars)
    if reason is None:
        emitter.raw(item)
        return
    policy = source.fetch_policy(concurrency=settings.fetch_host_concurrency, delay_s=settings.fetch_host_delay_s)
    emitter.fetch(FetchRequest(item=item, policy=policy))
    report.to_fetch += 1


def _push(
    item: RawItem,
    pushed: dict[str, str],
    emitter: Emitter,
    report: PollReport,
    force: bool,
    send: Callable[[RawItem], None],
) -> None:
    """Send `item` unless the same content was pushed already (before, or earlier in this poll)."""
    if not force and pushed.get(item.item_id) == item.content_hash:
        report.unchanged += 1
        return
    send(item)
    pushed[item.item_id] = item.content_hash
    report.new += 1


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
