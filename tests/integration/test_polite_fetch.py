"""The polite page fetcher against loopback servers: robots.txt answers as RFC 9309 reads them, and the
limits a host sets (Crawl-delay, 503 with Retry-After)."""

from __future__ import annotations

import time

import pytest

from pipeline.pages.polite import HostBusy, PoliteFetcher, RobotsDisallowed
from pipeline.sources.fetch import FetchError, FetchLimits, FetchRetryable
from schemas.models import FetchPolicy
from tests.support.http_servers import LoopbackServer, answer

PAGE = answer(200, b"<html><body><p>story</p></body></html>", [("Content-Type", "text/html")])
POLICY = FetchPolicy(host_concurrency=1, host_delay_s=0.0, trusted=True)


def _client() -> PoliteFetcher:
    return PoliteFetcher(FetchLimits(user_agent="newsflow/0.1.0 (+test)", total_timeout_s=5.0))


def _deadline() -> float:
    return time.monotonic() + 10


def test_missing_robots_allows_everything_and_is_asked_once() -> None:
    with LoopbackServer({"/a": PAGE, "/b": PAGE}) as server:  # /robots.txt answers 404
        client = _client()
        for path in ("/a", "/b"):
            assert client.get(server.url(path), policy=POLICY, validators=None, deadline=_deadline()).status == 200
        assert [seen.target for seen in server.seen] == ["/robots.txt", "/a", "/b"]
        assert server.seen[0].headers["user-agent"].startswith("newsflow/")


def test_our_group_in_robots_wins_and_crawl_delay_spaces_requests() -> None:
    robots = b"User-agent: *\nDisallow: /\n\nUser-agent: newsflow\nDisallow: /drafts/\nCrawl-delay: 1\n"
    routes = {"/robots.txt": answer(200, robots, [("Content-Type", "text/plain")]), "/news": PAGE, "/news2": PAGE}
    with LoopbackServer(routes) as server:
        client = _client()
        with pytest.raises(RobotsDisallowed):
            client.get(server.url("/drafts/x"), policy=POLICY, validators=None, deadline=_deadline())
        started = time.monotonic()
        client.get(server.url("/news"), policy=POLICY, validators=None, deadline=_deadline())
        client.get(server.url("/news2"), policy=POLICY, validators=None, deadline=_deadline())
        assert time.monotonic() - started >= 1.0  # the host's Crawl-delay between the two
        assert "/drafts/x" not in [seen.target for seen in server.seen]


def test_unreadable_robots_makes_the_page_wait_and_503_blocks_the_host() -> None:
    with LoopbackServer({"/robots.txt": answer(500, b"oops"), "/a": PAGE}) as server:
        with pytest.raises(FetchRetryable, match=r"robots\.txt"):
            _client().get(server.url("/a"), policy=POLICY, validators=None, deadline=_deadline())
        assert "/a" not in [seen.target for seen in server.seen]
    busy = answer(503, b"busy", [("Retry-After", "120")])
    with LoopbackServer({"/robots.txt": answer(404), "/a": busy, "/b": PAGE}) as server:
        client = _client()
        with pytest.raises(FetchRetryable) as first:
            client.get(server.url("/a"), policy=POLICY, validators=None, deadline=_deadline())
        assert first.value.retry_after_s == 120
        with pytest.raises(HostBusy) as second:
            client.get(server.url("/b"), policy=POLICY, validators=None, deadline=_deadline())
        assert 110 < second.value.wait_s <= 120
        assert "/b" not in [seen.target for seen in server.seen]


def test_untrusted_sources_still_may_not_reach_loopback() -> None:
    with LoopbackServer({"/a": PAGE}) as server, pytest.raises(FetchError, match="loopback"):
        _client().get(
            server.url("/a"), policy=POLICY.model_copy(update={"trusted": False}), validators=None, deadline=_deadline()
        )
