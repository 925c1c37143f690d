"""The fetch stage: news.fetch (and news.fetch.retry) -> the item's page, extracted -> news.raw.

For each request of a batch (several at once, within each host's limits, see `pipeline.pages.polite`):
read the page (conditionally when the page store has its validators), extract the article, fold it into
the item (`pipeline.pages.merge`: re-keyed by the page's canonical URL, feed metadata first) and send it on
to the normalizer. Outcomes:

- a permanent failure (404, 410 and other 4xx, robots.txt disallows, not HTML, over the size cap, refused
  address, no text at all) is a dead letter of stage `fetch` with its reason; the rest of the batch goes on;
- a transient one (timeout, 5xx, 429, robots.txt unreadable) goes to the retry topic with the attempt
  counted and a due time (Retry-After, else exponential backoff with jitter); after `fetch_max_attempts`
  it is a dead letter (`gave_up`), which `newsflow deadletter replay --stage fetch` sends back afresh;
- a page whose host is blocked (after a 429/503) or too busy to start within the batch's budget goes to
  the retry topic due when the host is free, without counting an attempt;
- a request read before it is due is left uncommitted and its partition paused until then.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from pipeline import search
from pipeline.config import Settings
from pipeline.deadletter import dead_letter
from pipeline.errors import NewsflowError
from pipeline.extract import extract_article
from pipeline.metrics import Metrics
from pipeline.normalize.ids import id_from_url
from pipeline.normalize.urls import canonical_url
from pipeline.pages.content import PageContent, from_extracted
from pipeline.pages.merge import fold_page
from pipeline.pages.polite import HostBusy, PoliteFetcher, RobotsDisallowed
from pipeline.pages.store import PageStore, StoredPage, record
from pipeline.pages.teaser import item_text
from pipeline.sources.charset import decode_html
from pipeline.sources.fetch import AddressRefused, FetchError, FetchLimits, FetchResult, FetchRetryable, TooLarge
from pipeline.workers.consume import Interrupted, StopFlag
from pipeline.workers.normalize import source_header
from pipeline.workers.output import Output
from schemas.models import DeadLetter, FetchRequest, RawItem, Stage

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
EARLY_S = 0.5  # a request due this soon is handled now
MAX_DELAY_S = 86_400.0


@dataclass(frozen=True)
class Done:
    item: RawItem
    page: StoredPage | None  # a fresh read of the page, to store; None after a 304


@dataclass(frozen=True)
class Again:
    request: FetchRequest


Outcome = Done | Again | DeadLetter


def error_type(exc: NewsflowError) -> str:
    """A short kind of a permanent failure, for dead letters (and their counts)."""
    if isinstance(exc, RobotsDisallowed):
        return "robots_disallowed"
    if isinstance(exc, TooLarge):
        return "too_large"
    if isinstance(exc, AddressRefused):
        return "address_refused"
    if isinstance(exc, FetchError) and exc.status is not None:
        return {404: "not_found", 410: "gone"}.get(exc.status, f"http_{exc.status}")
    return "fetch_failed"


def retry_delay_s(
    attempt: int, retry_after_s: float | None, *, base_s: float, cap_s: float, rng: random.Random
) -> float:
    """Seconds until the next attempt: Retry-After when the server gave one and it is longer, else
    `base * 2**(attempt-1)` (at most `cap_s`) with jitter between half and all of it."""
    backoff: float = min(cap_s, base_s * 2 ** max(attempt - 1, 0)) * rng.uniform(0.5, 1.0)
    return min(MAX_DELAY_S, max(backoff, retry_after_s or 0.0))


def is_html(result: FetchResult) -> bool:
    kind = (result.content_type or "").split(";")[0].strip().lower()
    if kind:
        return kind in HTML_TYPES
    head = (result.content or b"")[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


class PageFetcher:
    """The fetch stage's handler: its HTTP client, page store and threads live as long as the worker."""

    def __init__(self, settings: Settings, stop: StopFlag, metrics: Metrics) -> None:
        self.settings = settings
        self._stop = stop
        self._metrics = metrics
        self._rng = random.Random()
        self.client = PoliteFetcher(
            FetchLimits(
                connect_timeout_s=settings.http_connect_timeout_s,
                total_timeout_s=settings.http_total_timeout_s,
                max_bytes=settings.fetch_max_page_bytes,
                user_agent=settings.user_agent,
            ),
            robots_ttl_s=settings.robots_cache_s,
        )
        self._es = search.client(settings)
        self.store = PageStore(self._es, settings.page_index)
        self._pool = ThreadPoolExecutor(settings.fetch_threads, thread_name_prefix="newsflow-page")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._es.close()

    def handle(self, records: Sequence[Any]) -> Output:
        now = datetime.now(UTC)
        output = Output()
        due: list[tuple[Any, FetchRequest]] = []
        for rec in records:
            if (rec.topic, rec.partition) in output.postponed.offsets:
                continue  # a partition is read in order: nothing after a postponed record runs early
            try:
                request = FetchRequest.model_validate_json(rec.value)
            except ValidationError as exc:
                output.dead.append(self._invalid(rec, exc))
                continue
            if request.not_before and request.not_before > now + timedelta(seconds=EARLY_S):
                output.postponed.add(rec.topic, rec.partition, rec.offset, request.not_before.timestamp())
                continue
            due.append((rec, request))
        links = [self._link(request) for _, request in due]
        stored = self.store.get_many([link_id for link_id, _ in links if link_id])
        deadline = time.monotonic() + self.settings.fetch_batch_budget_s
        futures = [
            self._pool.submit(self._one, rec, request, link, stored.get(link_id or ""), deadline)
            for (rec, request), (link_id, link) in zip(due, links, strict=True)
        ]
        outcomes = [future.result() for future in futures]
        if self._stop.is_set():
            raise Interrupted("stopped in the middle of a batch of pages; it stays uncommitted")
        fresh: dict[str, StoredPage] = {}
        for outcome, (link_id, _) in zip(outcomes, links, strict=True):
            if isinstance(outcome, Done):
                output.raws.append(outcome.item)
                if outcome.page is not None and link_id:
                    fresh[link_id] = outcome.page
            elif isinstance(outcome, Again):
                output.retries.append(outcome.request)
            else:
                output.dead.append(outcome)
        self.store.put_many(fresh)
        return output

    @staticmethod
    def _link(request: FetchRequest) -> tuple[str | None, str | None]:
        link = canonical_url(request.item.url, base=request.item.base_url)
        return (id_from_url(link), link) if link else (None, None)

    def _one(
        self, rec: Any, request: FetchRequest, link: str | None, stored: StoredPage | None, deadline: float
    ) -> Outcome:
        if self._stop.is_set():
            return Again(request)  # not sent: the batch is abandoned uncommitted (see `handle`)
        started = time.perf_counter()
        try:
            outcome = self._fetch(rec, request, link, stored, deadline)
        except Exception as exc:  # a bug on one page must not stop the others
            log.exception("unexpected error fetching %s", link, extra={"item_id": request.item.item_id})
            outcome = self._dead(rec, request, "internal_error", f"{type(exc).__name__}: {exc}", link)
        kind = {Done: "fetched", Again: "retry"}.get(type(outcome), "dead")
        if isinstance(outcome, Done) and outcome.page is None:
            kind = "not_modified"
        self._metrics.pages(kind, time.perf_counter() - started)
        return outcome

    def _fetch(
        self, rec: Any, request: FetchRequest, link: str | None, stored: StoredPage | None, deadline: float
    ) -> Outcome:
        if link is None:
            return self._dead(rec, request, "no_link", "the item has no http(s) link to fetch", None)
        try:
            result = self.client.get(
                link, policy=request.policy, validators=stored.validators if stored else None, deadline=deadline
            )
        except HostBusy as exc:
            return self._later(request, exc.wait_s, f"{exc}", count=False)
        except FetchRetryable as exc:
            return self._later(request, exc.retry_after_s, str(exc), count=True, rec=rec, link=link)
        except FetchError as exc:
            return self._dead(rec, request, error_type(exc), str(exc), link)
        fetched_at = datetime.now(UTC)
        if result.not_modified and stored is not None:
            return Done(fold_page(request.item, stored.content, status=304, fetched_at=fetched_at), None)
        if not is_html(result):
            kind = result.content_type or "no Content-Type"
            return self._dead(rec, request, "not_html", f"{result.url[:200]}: not an HTML page ({kind[:80]})", link)
        content = self._extract(request, result)
        item = fold_page(request.item, content, status=result.status, fetched_at=fetched_at)
        if not item_text(item) and not (item.title or "").strip():
            return self._dead(rec, request, "no_article", f"{result.url[:200]}: no article text on the page", link)
        return Done(item, record(link, result.validators, fetched_at, content))

    def _extract(self, request: FetchRequest, result: FetchResult) -> PageContent:
        decoded = decode_html(result.content or b"", result.content_type)
        hint = request.item.language or request.item.source.language
        page = extract_article(decoded.text, url=result.url, language_hint=hint)
        notes = [f"encoding: {decoded.note}"] if decoded.note else []
        return from_extracted(page, final_url=result.url, encoding=decoded.encoding, notes=notes)

    def _later(
        self,
        request: FetchRequest,
        wait_s: float | None,
        reason: str,
        *,
        count: bool,
        rec: Any = None,
        link: str | None = None,
    ) -> Outcome:
        attempt = request.attempt + 1 if count else request.attempt
        if count and attempt >= self.settings.fetch_max_attempts:
            message = f"gave up after {attempt} transient failures; last: {reason}"
            return self._dead(rec, request, "gave_up", message, link)
        if count:
            wait_s = retry_delay_s(
                attempt,
                wait_s,
                base_s=self.settings.fetch_retry_base_s,
                cap_s=self.settings.fetch_retry_max_s,
                rng=self._rng,
            )
        due = datetime.now(UTC) + timedelta(seconds=wait_s or 0.0)
        log.info("page of %s postponed to %s: %s", request.item.item_id, due.isoformat(timespec="seconds"), reason)
        return Again(request.model_copy(update={"attempt": attempt, "not_before": due, "last_error": reason[:500]}))

    @staticmethod
    def _dead(rec: Any, request: FetchRequest, kind: str, message: str, link: str | None) -> DeadLetter:
        return dead_letter(
            Stage.FETCH,
            kind,
            message,
            request.model_dump_json(),
            source_id=request.item.source.id,
            item_id=request.item.item_id,
            topic=rec.topic if rec is not None else None,
            partition=rec.partition if rec is not None else None,
            offset=rec.offset if rec is not None else None,
            details={"url": link, "attempt": request.attempt},
        )

    @staticmethod
    def _invalid(rec: Any, exc: ValidationError) -> DeadLetter:
        first = exc.errors()[0]
        return dead_letter(
            Stage.FETCH,
            "invalid_fetch_request",
            f"not a valid FetchRequest: {first['msg']} at {first['loc']}",
            rec.value or b"",
            source_id=source_header(rec),
            item_id=rec.key.decode("utf-8", "replace") if rec.key else None,
            topic=rec.topic,
            partition=rec.partition,
            offset=rec.offset,
        )
