"""What each `newsflow` sub-command does, on top of the adapters."""

from __future__ import annotations

import html
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import ValidationError

from pipeline import kafka
from pipeline.config import Settings
from pipeline.emit import DryRunEmitter, Emitter, KafkaEmitter
from pipeline.errors import ConfigError, NewsflowError
from pipeline.progress import track
from pipeline.sources.catalog import SourceConfig, find_source, load_sources
from pipeline.state import StateStore

if TYPE_CHECKING:
    from pipeline.poll import PollReport


def stack(settings: Settings, action: str, *, clustered: bool = False) -> int:
    from pipeline.stack import cluster, manager

    if action == "up":
        manager.up(settings, clustered=clustered)
        print("stack is up; topics and index are ready")
        if clustered:
            print(f"point newsflow at the cluster with these settings (also in {cluster.env_file(settings)}):")
            for name, value in cluster.client_env(settings).items():
                print(f"  export {name}={value}")
    elif action == "down":
        manager.down(settings)
    else:
        for line in manager.status_lines(settings, clustered_view=clustered):
            print(line)
    return 0


def topics_init(settings: Settings) -> int:
    created = kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
    print(f"topics: created {', '.join(created)}" if created else "topics: all present")
    return 0


def index_init(settings: Settings) -> int:
    from pipeline import search as search_adapter

    name = search_adapter.ensure_index(search_adapter.client(settings), settings)
    print(f"index {name} ready behind alias {settings.index_alias}")
    return 0


def selected_sources(settings: Settings, ids: list[str], all_sources: bool) -> list[SourceConfig]:
    sources = load_sources(settings.sources)
    if all_sources:
        return [s for s in sources if s.enabled]
    if not ids:
        raise ConfigError("name one or more source ids, or use --all")
    return [find_source(sources, source_id) for source_id in ids]


def poll_one(
    settings: Settings, source: SourceConfig, emitter: Emitter, *, force: bool = False, dry_run: bool = False
) -> PollReport:
    from pipeline.poll import poll_source  # parsers load only when polling

    return poll_source(source, settings, emitter, StateStore(settings.state_dir), force=force, dry_run=dry_run)


def poll(settings: Settings, ids: list[str], *, all_sources: bool, force: bool, dry_run: bool) -> int:
    sources = selected_sources(settings, ids, all_sources)
    if not dry_run:
        kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
    emitter: Emitter = DryRunEmitter() if dry_run else KafkaEmitter(settings)
    failures = 0
    try:
        for position, source in enumerate(track(sources, "poll", len(sources)), start=1):
            prefix = f"[{position}/{len(sources)}] " if len(sources) > 1 else ""
            try:
                report = poll_one(settings, source, emitter, force=force, dry_run=dry_run)
            except NewsflowError as exc:  # one failing source never blocks another
                failures += 1
                print(f"{prefix}{source.id}: FAILED: {exc}", file=sys.stderr)
                continue
            print(prefix + report.line())
            for error in report.errors:
                print(f"    dead-lettered: {error}")
        if isinstance(emitter, DryRunEmitter):
            for item in emitter.raws:
                print(f"    would push {item.item_id}  {item.title or item.url or ''}")
            for request in emitter.fetches:
                print(f"    would fetch the page of {request.item.item_id}  {request.item.url}")
    finally:
        emitter.close()
    return 1 if failures else 0


def worker(
    settings: Settings, kind: str, until_idle: float | None, *, metrics_port: int = 0, metrics_host: str = "127.0.0.1"
) -> int:
    from pipeline import metrics as worker_metrics
    from pipeline.workers.consume import StopFlag
    from pipeline.workers.main import run_all, run_stage
    from pipeline.workers.memory import tune_allocator, tune_collector
    from pipeline.workers.stages import STAGES

    tune_allocator()
    tune_collector()
    stop = StopFlag()
    stop.install()
    if kind == "all":
        views, served = worker_metrics.serve_many(list(STAGES), metrics_port, metrics_host)
        try:
            every = run_all(settings, until_idle_s=until_idle, stop=stop, metrics=views)
        finally:
            served.close()
        for name, stats in every.items():
            print(f"{name}: {stats.records} records in {stats.batches} batches, {stats.retries} retries")
        return 0
    metrics = worker_metrics.serve(kind, metrics_port, metrics_host)
    try:
        stats = run_stage(settings, kind, until_idle_s=until_idle, stop=stop, metrics=metrics)
    finally:
        metrics.close()
    print(f"{kind}: {stats.records} records in {stats.batches} batches, {stats.retries} retries")
    return 0


def _terminal(fragment: str) -> str:
    """A highlight of the read API (HTML-escaped, matches in <mark>) for a terminal: matches in «»."""
    marked = fragment.replace("<mark>", "\u00ab").replace("</mark>", "\u00bb")
    return " ".join(html.unescape(marked).split())


def exporter(settings: Settings, *, port: int, host: str) -> int:
    from pipeline import exporter as source_exporter
    from pipeline.workers.consume import StopFlag

    stop = StopFlag()
    stop.install()
    return source_exporter.run(settings, port=port, host=host, stop=stop)


def search(settings: Settings, query: str, *, as_json: bool, size: int) -> int:
    """The read API's search (same query, ranking and expansion), printed; times in the newsroom's zone."""
    from pipeline.api.backend import Backend
    from pipeline.api.page import local_time
    from pipeline.api.queries import SearchParams

    try:
        params = SearchParams(q=query, size=size)
    except ValidationError as exc:
        raise ConfigError(f"invalid search: {exc.errors()[0]['msg']}") from None
    backend = Backend(settings)
    try:
        result, _ = backend.search(params)
    finally:
        backend.close()
    if as_json:
        print(json.dumps([hit.article.model_dump(mode="json") for hit in result.hits], ensure_ascii=False, indent=2))
        return 0
    if not result.hits:
        print(f"no results for {query!r}")
    for rank, hit in enumerate(result.hits, start=1):
        article = hit.article
        title = _terminal(hit.highlights["title"][0]) if hit.highlights.get("title") else article.title
        when = local_time(article.published_at, settings.zone) if article.published_at else "undated"
        print(f"{rank}. {title}  [{article.outlet} / {article.category}] {when}")
        for snippet in hit.highlights.get("body_text", [])[:2]:
            print(f"     … {_terminal(snippet)} …")
        print(f"     {article.url or article.id}")
    return 0


def sources(settings: Settings, action: str) -> int:
    configured = load_sources(settings.sources)
    store = StateStore(settings.state_dir)
    for source in configured:
        if action == "list":
            state = "enabled" if source.enabled else "disabled"
            print(f"{source.id:<28}{source.type.value:<8}{state:<10}{source.schedule:<14}{source.location}")
            continue
        st = store.load(source.id)
        health = "ok" if st.consecutive_failures == 0 else f"FAILING x{st.consecutive_failures}"
        print(
            f"{source.id:<28}{health:<14}last ok: {st.last_success_at or '-'}  next: {st.next_attempt_at or '-'}"
            f"  pushed: {len(st.pushed)}"
        )
        if st.last_error:
            print(f"    last error: {st.last_error}")
    return 0


def sources_check(settings: Settings, source_id: str | None, *, as_json: bool) -> int:
    """What each item of a source would become (a dry-run poll and the transform); pushes nothing."""
    from pipeline import source_check

    if not source_id:
        raise ConfigError("name the source to check: newsflow sources check SOURCE_ID")
    source = find_source(load_sources(settings.sources), source_id)
    emitter = DryRunEmitter()
    report = poll_one(settings, source, emitter, force=True, dry_run=True)
    found = source_check.rows(
        emitter.raws, emitter.deads, datetime.now(UTC), to_fetch=[request.item for request in emitter.fetches]
    )
    if as_json:
        print(source_check.as_json(found))
        return 0
    print(source_check.table(found))
    print(source_check.summary(found, deferred=report.deferred))
    return 0


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """`--since`: an ISO date/time (UTC when it has no zone) or an age such as 30m, 2h, 7d."""
    if not value:
        return None
    now = now or datetime.now(UTC)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if value[:-1].isdigit() and value[-1] in units:
        return now - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--since {value!r}: expected an ISO time like 2026-01-31T08:00 or an age like 2h") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def deadletter(
    settings: Settings, action: str, *, stage: str | None, since: str | None, as_json: bool, limit: int
) -> int:
    from pipeline import deadletters
    from schemas.models import Stage

    wanted = Stage(stage) if stage else None
    letters = deadletters.read(settings, stage=wanted, since=parse_since(since))
    if action == "list":
        selected = sorted(letters, key=lambda letter: letter.failed_at)[-limit:]
        for letter in selected:
            print(letter.model_dump_json() if as_json else deadletters.line(letter))
        if not as_json:
            print(f"{len(selected)} dead letters" + (f" (newest {limit})" if len(selected) == limit else ""))
        return 0
    report = deadletters.replay(settings, track(letters, "replay"))
    print(
        f"replayed: {report.fetches} to {settings.topic_fetch}, {report.raw} to {settings.topic_raw}, "
        f"{report.articles} to {settings.topic_articles}"
    )
    failures = 0
    if report.sources:
        emitter = KafkaEmitter(settings)
        try:
            for source_id in track(sorted(report.sources), "re-poll", len(report.sources)):
                source = find_source(load_sources(settings.sources), source_id)
                try:
                    print("re-polled " + poll_one(settings, source, emitter, force=True).line())
                except NewsflowError as exc:
                    failures += 1
                    print(f"re-poll of {source_id} failed: {exc}", file=sys.stderr)
        finally:
            emitter.close()
    if report.skipped:
        print(f"{report.skipped} letters could not be replayed (no key or source)")
    return 1 if failures else 0
