"""Polite fetching of article pages, on top of the one HTTP client (`pipeline.sources.fetch`).

- robots.txt of each origin is fetched once and cached (`robots_cache_s`), parsed with Protego (RFC 9309:
  the most specific user-agent group, longest match, `*` and `$`). As RFC 9309 says: a robots.txt that
  answers 4xx allows everything; one that cannot be read (5xx, network, timeout) disallows everything for
  now, so the page waits and is tried later. `Crawl-delay` raises the host's delay (up to 60 s).
- Per host (scheme, host, port), at most `host_concurrency` requests at once and `host_delay_s` between the
  starts of two requests, in this process. The fetch topics are partitioned by host, so one host's pages
  reach one fetch worker, and the limits hold across workers.
- A 429 or 503 blocks the host for its Retry-After (else 30 s): its other pages wait instead of asking.
- A page whose host is blocked (for more than `SHORT_WAIT_S`), or that cannot start before the batch's
  deadline, raises `HostBusy` at once: it is postponed, not counted as a failed attempt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

import httpcore
from protego import Protego

from pipeline.errors import RetryableError
from pipeline.sources.fetch import (
    PUBLIC_ONLY,
    AddressPolicy,
    FetchError,
    FetchLimits,
    FetchResult,
    FetchRetryable,
    fetch,
)
from schemas.models import FetchPolicy, Validators

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: crawlers must read at least 500 KiB
MAX_CRAWL_DELAY_S = 60.0
DEFAULT_BLOCK_S = 30.0
SHORT_WAIT_S = 2.0  # a host blocked for less than this is waited for in the batch
MAX_ROBOTS = 10_000  # robots.txt rules kept in memory at most
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"

Clock = Callable[[], float]


class RobotsDisallowed(FetchError):
    """robots.txt of the page's site does not let us fetch it."""


class HostBusy(RetryableError):
    """The host is blocked (429/503) or its slots stay taken past the batch's deadline: try the page later."""

    def __init__(self, message: str, wait_s: float) -> None:
        super().__init__(message)
        self.wait_s = wait_s


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass
class _Host:
    active: int = 0
    next_start: float = 0.0
    blocked_until: float = 0.0
    delay_s: float = 0.0


class HostGate:
    """Per-host concurrency and spacing, for the threads of one process: a request starts `delay_s` after the
    previous one started and after the last one ended, so the server sees the spacing however long each took."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._hosts: dict[str, _Host] = {}

    def acquire(self, host: str, concurrency: int, delay_s: float, deadline: float) -> None:
        with self._cond:
            state = self._hosts.setdefault(host, _Host())
            while True:
                now = self._clock()
                if state.blocked_until > now:
                    wait = state.blocked_until - now
                    if wait > SHORT_WAIT_S or now + wait > deadline:
                        raise HostBusy(f"{host} asked us to wait {wait:.0f}s more", wait)
                    self._cond.wait(wait)  # nearly over: waited out here rather than sent round again
                    continue
                if state.active < concurrency and now >= state.next_start:
                    state.active += 1
                    state.next_start = now + delay_s
                    state.delay_s = delay_s
                    return
                # A free slot waits for the spacing; a full host waits for a release (notified), until the deadline.
                spacing: float | None = state.next_start - now if state.active < concurrency else None
                if now >= deadline or (spacing is not None and now + spacing > deadline):
                    raise HostBusy(f"{host} is busy with our other requests", max(spacing or 0.0, delay_s))
                self._cond.wait(min(spacing if spacing is not None else deadline - now, deadline - now))

    def release(self, host: str) -> None:
        with self._cond:
            state = self._hosts[host]
            state.active -= 1
            state.next_start = max(state.next_start, self._clock() + state.delay_s)
            self._cond.notify_all()

    def block(self, host: str, seconds: float) -> None:
        with self._cond:
            state = self._hosts.setdefault(host, _Host())
            state.blocked_until = max(state.blocked_until, self._clock() + seconds)
            self._cond.notify_all()


@dataclass
class _Robots:
    rules: Protego | None  # None: everything allowed (no robots.txt, or it answered 4xx)
    expires: float


@dataclass
class PoliteFetcher:
    limits: FetchLimits
    robots_ttl_s: float = 86_400.0
    address_policy: AddressPolicy = PUBLIC_ONLY
    clock: Clock = time.monotonic
    gate: HostGate = field(default_factory=HostGate)

    def __post_init__(self) -> None:
        self._robots: dict[str, _Robots] = {}
        self._robots_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        self.agent = self.limits.user_agent.split("/")[0].split()[0] if self.limits.user_agent else "newsflow"
        self._ssl = httpcore.default_ssl_context()  # made once: loading the CA bundle costs ~20 ms of CPU
        self._page_limits = replace(self.limits, accept=PAGE_ACCEPT)
        self._robots_limits = replace(
            self.limits, accept="text/plain, */*;q=0.5", max_bytes=min(self.limits.max_bytes, ROBOTS_MAX_BYTES)
        )

    def get(self, url: str, *, policy: FetchPolicy, validators: Validators | None, deadline: float) -> FetchResult:
        """GET a page if robots.txt allows it, within the host's limits. Raises RobotsDisallowed, HostBusy,
        and what `fetch` raises; a 429 or 503 also blocks the host for its Retry-After."""
        host = origin_of(url)
        robots = self._robots_of(host, policy, deadline)
        delay = policy.host_delay_s
        if robots is not None:
            if not robots.can_fetch(url, self.agent):
                raise RobotsDisallowed(f"{url[:200]}: robots.txt of {host} disallows it for {self.agent}")
            crawl_delay = robots.crawl_delay(self.agent)
            if crawl_delay:
                delay = max(delay, min(float(crawl_delay), MAX_CRAWL_DELAY_S))
        return self._request(host, url, policy, delay, deadline, self._page_limits, validators)

    def _request(
        self,
        host: str,
        url: str,
        policy: FetchPolicy,
        delay: float,
        deadline: float,
        limits: FetchLimits,
        validators: Validators | None,
    ) -> FetchResult:
        self.gate.acquire(host, policy.host_concurrency, delay, deadline)
        try:
            return fetch(
                url,
                limits=limits,
                validators=validators,
                trusted=policy.trusted,
                policy=self.address_policy,
                ssl_context=self._ssl,
            )
        except FetchRetryable as exc:
            if exc.status in (429, 503):
                self.gate.block(host, exc.retry_after_s if exc.retry_after_s is not None else DEFAULT_BLOCK_S)
            raise
        finally:
            self.gate.release(host)

    def _robots_of(self, host: str, policy: FetchPolicy, deadline: float) -> Protego | None:
        with self._lock:
            lock = self._robots_locks.setdefault(host, threading.Lock())
        with lock:  # one fetch of a site's robots.txt at a time; the others wait for its answer
            cached = self._robots.get(host)
            if cached is not None and cached.expires > self.clock():
                return cached.rules
            rules = self._read_robots(host, policy, deadline)
            with self._lock:
                if len(self._robots) >= MAX_ROBOTS:  # a worker that met very many sites forgets the oldest
                    for stale in sorted(self._robots, key=lambda h: self._robots[h].expires)[: MAX_ROBOTS // 10]:
                        del self._robots[stale]
                self._robots[host] = _Robots(rules, self.clock() + self.robots_ttl_s)
            return rules

    def _read_robots(self, host: str, policy: FetchPolicy, deadline: float) -> Protego | None:
        parts = urlsplit(host)
        default_port = {"http": 80, "https": 443}.get(parts.scheme)
        netloc = parts.hostname if parts.port == default_port else parts.netloc
        url = f"{parts.scheme}://{netloc}/robots.txt"
        try:
            result = self._request(host, url, policy, policy.host_delay_s, deadline, self._robots_limits, None)
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return None  # RFC 9309 2.3.1.3: "unavailable" - no rules
            raise
        except FetchRetryable as exc:
            raise FetchRetryable(
                f"robots.txt of {host} cannot be read ({exc}); its pages wait", exc.retry_after_s, exc.status
            ) from None
        return Protego.parse((result.content or b"").decode("utf-8", "replace"))
