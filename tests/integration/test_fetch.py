"""The HTTP client against real servers on loopback: sizes, time limits, redirects, statuses, TLS,
conditional GET and hostile addresses.

Every server binds 127.0.0.1 only. The `network` fixture records every connection and name lookup
the code under test makes, and fails a test that tries to reach anything else: a refused address is
refused before any connection, and the tests assert that too.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from pipeline.sources.fetch import (
    PUBLIC_ONLY,
    AddressPolicy,
    AddressRefused,
    FetchError,
    FetchLimits,
    FetchResult,
    FetchRetryable,
    IPAddress,
    fetch,
    resolve_system,
)
from schemas.models import Validators
from tests.support.http_servers import (
    LOOPBACK,
    Certificate,
    Exchange,
    LoopbackServer,
    RawServer,
    answer,
    issue,
    redirect,
)

pytestmark = pytest.mark.timeout(10)

LIMITS = FetchLimits(connect_timeout_s=2.0, total_timeout_s=5.0, max_bytes=64 * 1024, user_agent="newsflow-test/1.0")
LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


@dataclass
class NetworkLog:
    connects: list[tuple[str, int]] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkLog]:
    """Record every connection and lookup; refuse (and fail the test on) anything beyond 127.0.0.0/8."""
    log = NetworkLog()
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(sock: socket.socket, address: object) -> None:
        host, port = address[0], address[1]  # type: ignore[index]
        log.connects.append((host, port))
        if ipaddress.ip_address(host) not in LOOPBACK_V4:
            log.forbidden.append(f"connect to {host}:{port}")
            raise ConnectionRefusedError(f"test network guard: {host} is not in {LOOPBACK_V4}")
        real_connect(sock, address)  # type: ignore[arg-type]

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
        log.lookups.append(str(host))
        if host != "localhost":
            try:
                real_getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)  # type: ignore[arg-type]
            except socket.gaierror:
                log.forbidden.append(f"DNS lookup of {host}")
                raise socket.gaierror(socket.EAI_NONAME, "test network guard: no DNS") from None
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield log
    assert log.forbidden == [], "the code under test tried to leave loopback"


def only_local(resolver: Callable[[str, int], Sequence[IPAddress]] | None = None) -> AddressPolicy:
    """The public-only rule, except 127.0.0.1 itself (where the test servers are): 127.0.0.2 stays refused."""
    allow = (ipaddress.ip_network("127.0.0.1/32"),)
    return AddressPolicy(allow=allow) if resolver is None else AddressPolicy(allow=allow, resolve=resolver)


class FakeDNS:
    """A resolver with fixed answers per name (one answer list per call, the last repeated)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self._answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        replies = self._answers.get(host)
        if not replies:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        reply = replies[min(self.calls.count(host), len(replies)) - 1]
        return [ipaddress.ip_address(address) for address in reply]


def get(
    url: str, *, limits: FetchLimits = LIMITS, policy: AddressPolicy | None = None, **kwargs: object
) -> FetchResult:
    return fetch(url, limits=limits, policy=policy or only_local(), **kwargs)  # type: ignore[arg-type]


def one_line(exc: pytest.ExceptionInfo[BaseException], *fragments: str) -> str:
    """The error's message: a single line that contains every fragment."""
    message = str(exc.value)
    assert "\n" not in message and "\r" not in message, message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


def gzipped(data: bytes, wbits: int = 31) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


# --- a plain fetch and conditional GET ---------------------------------------------------------------


def test_get_returns_the_body_validators_and_max_age_and_sends_our_headers() -> None:
    headers = [
        ("ETag", '"v1"'),
        ("Last-Modified", "Wed, 01 Jan 2025 00:00:00 GMT"),
        ("Cache-Control", "public, max-age=300"),
    ]
    with LoopbackServer({"/feed.xml": answer(200, FEED, headers)}) as server:
        result = get(server.url("/feed.xml"))
    assert result == FetchResult(
        server.url("/feed.xml"), 200, FEED, Validators(etag='"v1"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT"), 300
    )
    (seen,) = server.seen
    assert seen.headers["user-agent"] == "newsflow-test/1.0"
    assert seen.headers["host"] == f"{LOOPBACK}:{server.port}"
    assert seen.headers["accept-encoding"] == "gzip, deflate"
    assert "if-none-match" not in seen.headers and "if-modified-since" not in seen.headers


def test_conditional_get_sends_validators_and_a_304_has_no_content_but_new_validators() -> None:
    def conditional(exchange: Exchange) -> None:
        fresh = exchange.headers.get("if-none-match") == '"v1"'
        if fresh and exchange.headers.get("if-modified-since") == "Wed, 01 Jan 2025 00:00:00 GMT":
            exchange.reply(304, headers=[("ETag", '"v2"'), ("Cache-Control", "max-age=60")], length=False)
        else:
            exchange.reply(200, FEED)

    sent = Validators(etag='"v1"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT")
    with LoopbackServer({"/feed": conditional}) as server:
        result = get(server.url("/feed"), validators=sent)
    assert result.not_modified and result.status == 304 and result.content is None
    assert result.validators == Validators(etag='"v2"', last_modified="Wed, 01 Jan 2025 00:00:00 GMT")
    assert result.max_age_s == 60


def test_a_304_without_validators_keeps_the_ones_sent() -> None:
    sent = Validators(etag='W/"abc"', last_modified="Thu, 02 Jan 2025 00:00:00 GMT")
    with LoopbackServer({"/feed": lambda exchange: exchange.reply(304, length=False)}) as server:
        result = get(server.url("/feed"), validators=sent)
    assert result.content is None and result.validators == sent
    assert server.seen[0].headers["if-none-match"] == 'W/"abc"'


@pytest.mark.parametrize(
    ("cache_control", "max_age"),
    [
        (["max-age=300"], 300),
        (['private, MAX-AGE="60"'], 60),
        (["public", "max-age=10"], 10),
        (["no-cache"], None),
        (["max-age=soon"], None),
        ([], None),
    ],
)
def test_cache_control_max_age_is_parsed(cache_control: list[str], max_age: int | None) -> None:
    headers = [("Cache-Control", value) for value in cache_control]
    with LoopbackServer({"/feed": answer(200, FEED, headers)}) as server:
        assert get(server.url("/feed")).max_age_s == max_age


def test_a_long_url_is_shortened_in_messages() -> None:
    with LoopbackServer({"/feed": redirect("/" + "a" * 5000)}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"))
    assert len(one_line(exc, server.url("/feed"), "…): answered 404")) < 500


def test_user_info_in_a_url_is_neither_sent_nor_shown() -> None:
    with LoopbackServer({}) as server:
        url = server.url("/missing").replace("http://", "http://reader:s3cret@")
        with pytest.raises(FetchError) as exc:
            get(url)
    assert "s3cret" not in one_line(exc, "answered 404", "***@")
    assert "authorization" not in server.seen[0].headers


# --- statuses ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [300, 400, 401, 403, 404, 410, 451])
def test_client_errors_are_permanent_and_name_the_status(status: int) -> None:
    with LoopbackServer({"/feed": answer(status, b"no")}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"))
    assert not isinstance(exc.value, AddressRefused)
    one_line(exc, server.url("/feed"), f"answered {status} ")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_server_errors_and_429_are_retryable(status: int) -> None:
    with LoopbackServer({"/feed": answer(status, b"busy")}) as server, pytest.raises(FetchRetryable) as exc:
        get(server.url("/feed"))
    assert exc.value.retry_after_s is None
    one_line(exc, server.url("/feed"), f"answered {status} ", "will retry")


def _http_date(delta: timedelta) -> str:
    return format_datetime(datetime.now(UTC) + delta, usegmt=True)


@pytest.mark.parametrize(
    ("status", "retry_after", "low", "high"),
    [
        (429, "120", 120.0, 120.0),
        (503, "7", 7.0, 7.0),
        (503, timedelta(seconds=90), 80.0, 91.0),
        (429, timedelta(hours=-1), 0.0, 0.0),
        (503, "soon", None, None),
        (503, "-5", None, None),
    ],
)
def test_retry_after_is_honoured_in_seconds_and_http_date_forms(
    status: int, retry_after: str | timedelta, low: float | None, high: float | None
) -> None:
    # An HTTP date is made when the test runs, not when it is collected.
    value = _http_date(retry_after) if isinstance(retry_after, timedelta) else retry_after
    routes = {"/feed": answer(status, b"", [("Retry-After", value)])}
    with LoopbackServer(routes) as server, pytest.raises(FetchRetryable) as exc:
        get(server.url("/feed"))
    one_line(exc, f"answered {status}")
    if low is None:
        assert exc.value.retry_after_s is None
    else:
        assert exc.value.retry_after_s is not None and low <= exc.value.retry_after_s <= (high or low)


# --- redirects --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_followed(status: int) -> None:
    with LoopbackServer({"/old/feed": redirect("new", status), "/old/new": answer(200, FEED)}) as server:
        result = get(server.url("/old/feed"))
    assert (result.url, result.content) == (server.url("/old/new"), FEED)


def test_relative_locations_resolve_against_the_current_url() -> None:
    with LoopbackServer(
        {
            "/a/b/start": redirect("../c"),
            "/a/c": redirect("/d?x=1"),
            "/d": lambda exchange: exchange.reply(302, headers=[("Location", f"//{LOOPBACK}:{server.port}/e#top")]),
            "/e": answer(200, FEED),
        }
    ) as server:
        result = get(server.url("/a/b/start"))
    assert [seen.target for seen in server.seen] == ["/a/b/start", "/a/c", "/d?x=1", "/e"]
    assert result.url == server.url("/e#top") and result.content == FEED


def _chain(length: int) -> dict[str, Callable[[Exchange], None]]:
    routes = {f"/{n}": redirect(f"/{n + 1}") for n in range(length)}
    routes[f"/{length}"] = answer(200, FEED)
    return routes


def test_five_redirects_are_followed() -> None:
    with LoopbackServer(_chain(5)) as server:
        assert get(server.url("/0")).url == server.url("/5")


def test_a_sixth_redirect_is_refused() -> None:
    with LoopbackServer(_chain(6)) as server, pytest.raises(FetchError) as exc:
        get(server.url("/0"))
    one_line(exc, server.url("/0"), "too many redirects (more than 5)")
    assert len(server.seen) == 6


@pytest.mark.parametrize(
    ("routes", "loop"),
    [
        ({"/a": redirect("/b"), "/b": redirect("/a")}, ["/a", "/b", "/a"]),
        ({"/a": redirect("/a")}, ["/a", "/a"]),
        ({"/a": redirect("/b"), "/b": redirect("/c"), "/c": redirect("/b")}, ["/b", "/c", "/b"]),
    ],
)
def test_redirect_loops_are_detected_with_a_clear_error(
    routes: dict[str, Callable[[Exchange], None]], loop: list[str]
) -> None:
    with LoopbackServer(routes) as server, pytest.raises(FetchError) as exc:
        get(server.url("/a"))
    one_line(exc, server.url("/a"), "redirect loop: " + " -> ".join(server.url(path) for path in loop))


def test_a_redirect_without_location_is_an_error() -> None:
    with LoopbackServer({"/feed": answer(302, b"")}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"))
    one_line(exc, "answered 302 without a Location")


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://127.0.0.1/feed", "gopher://127.0.0.1/"])
def test_a_redirect_to_another_scheme_is_refused_even_for_trusted_sources(location: str, network: NetworkLog) -> None:
    with LoopbackServer({"/feed": redirect(location)}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"), trusted=True)
    scheme = location.split(":")[0]
    one_line(
        exc, server.url("/feed"), f"(redirected to {scheme}:", f"only http and https URLs are fetched, not '{scheme}'"
    )
    assert network.connects == [(LOOPBACK, server.port)]


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata address"),
        ("http://127.0.0.2:{port}/feed", "127.0.0.2 is a loopback address"),
        ("http://10.0.0.1/feed", "10.0.0.1 is a private address"),
        ("http://192.168.1.1/feed", "192.168.1.1 is a private address"),
        ("http://100.64.0.1/feed", "100.64.0.1 is a carrier-grade NAT"),
        ("http://[::1]:{port}/feed", "::1 is a loopback address"),
        (
            "http://[::ffff:127.0.0.2]:{port}/feed",
            "::ffff:127.0.0.2 is a loopback address (IPv4 127.0.0.2 written as IPv6)",
        ),
        ("http://2130706434:{port}/feed", "2130706434 resolves to 127.0.0.2, a loopback address"),
        ("http://metadata.test/", "metadata.test resolves to 169.254.169.254, the cloud metadata address"),
    ],
)
def test_a_redirect_to_a_non_public_address_is_refused_before_connecting(
    location: str, reason: str, network: NetworkLog
) -> None:
    dns = FakeDNS({"metadata.test": [["169.254.169.254"]]})

    def resolve(host: str, port: int) -> Sequence[IPAddress]:
        return dns(host, port) if host.endswith(".test") else resolve_system(host, port)

    def hostile(exchange: Exchange) -> None:
        redirect(location.format(port=server.port))(exchange)

    with LoopbackServer({"/feed": hostile}) as server, pytest.raises(AddressRefused) as exc:
        get(server.url("/feed"), policy=only_local(resolve))
    one_line(exc, server.url("/feed"), "redirected to", reason, "trusted: true")
    assert network.connects == [(LOOPBACK, server.port)]  # the first hop only


# --- hostile addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://127.9.9.9:8080/feed", "127.9.9.9 is a loopback address"),
        ("http://localhost/", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://LOCALHOST/", "localhost resolves to 127.0.0.1, a loopback address"),
        ("http://[::1]/", "::1 is a loopback address"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://172.16.0.1/", "172.16.0.1 is a private address"),
        ("http://172.31.255.255/", "172.31.255.255 is a private address"),
        ("http://192.168.0.1/", "192.168.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is the cloud metadata address (link-local)"),
        ("https://169.254.1.1/", "169.254.1.1 is a link-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[fc00::1]/", "fc00::1 is a private (unique local) address"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is the cloud metadata address"),
        ("http://100.64.0.1/", "100.64.0.1 is a carrier-grade NAT (shared) address"),
        ("http://100.127.255.254/", "carrier-grade NAT"),
        ("http://0.0.0.0/", "0.0.0.0 is an unspecified"),
        ("http://0/", "0 resolves to 0.0.0.0, an unspecified"),
        ("http://[::]/", ":: is the unspecified address"),
        ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
        ("http://239.255.255.250:1900/", "multicast"),
        ("http://[ff02::1]/", "ff02::1 is a multicast address"),
        ("http://240.0.0.1/", "240.0.0.1 is a reserved address"),
        ("http://255.255.255.255/", "the broadcast address"),
        ("http://192.0.2.1/", "192.0.2.1 is a special-purpose address"),
        ("http://198.18.0.1/", "198.18.0.1 is a special-purpose address"),
        ("http://[2001:db8::1]/", "2001:db8::1 is a special-purpose address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1 is a loopback address (IPv4 127.0.0.1 written as IPv6)"),
        ("http://[::ffff:7f00:1]/", "is a loopback address (IPv4 127.0.0.1 written as IPv6)"),
        ("http://[::ffff:169.254.169.254]/", "the cloud metadata address (link-local) (IPv4 169.254.169.254"),
        ("http://[64:ff9b::a9fe:a9fe]/", "the cloud metadata address (link-local) (IPv4 169.254.169.254"),
        ("http://[2002:a00:1::]/", "a private address (IPv4 10.0.0.1 written as IPv6)"),
        ("http://[::127.0.0.1]/", "::127.0.0.1 is a reserved address"),
        ("http://2130706433/", "2130706433 resolves to 127.0.0.1, a loopback address"),
        ("http://0x7f.0.0.1/", "0x7f.0.0.1 resolves to 127.0.0.1, a loopback address"),
        ("http://0x7f000001/", "resolves to 127.0.0.1, a loopback address"),
        ("http://127.1/", "127.1 resolves to 127.0.0.1, a loopback address"),
        ("http://0177.1/", "0177.1 resolves to 127.0.0.1, a loopback address"),
        ("http://0x7f.1/", "0x7f.1 resolves to 127.0.0.1, a loopback address"),
        ("http://0xa9fea9fe/", "resolves to 169.254.169.254, the cloud metadata address"),
        ("http://feeds.example@127.0.0.1/", "127.0.0.1 is a loopback address"),
    ],
)
def test_non_public_addresses_are_refused_without_connecting(url: str, reason: str, network: NetworkLog) -> None:
    with pytest.raises(AddressRefused) as exc:
        fetch(url, limits=LIMITS)
    one_line(exc, "refused: ", reason, "mark the source `trusted: true`")
    assert network.connects == []


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"]
)
def test_public_addresses_pass_the_default_policy(address: str) -> None:
    assert PUBLIC_ONLY.refusal(ipaddress.ip_address(address)) is None


def test_a_name_with_any_non_public_address_is_refused(network: NetworkLog) -> None:
    dns = FakeDNS({"mixed.test": [["93.184.216.34", "10.0.0.7"]]})
    with pytest.raises(AddressRefused) as exc:
        fetch("https://mixed.test/feed", limits=LIMITS, policy=AddressPolicy(resolve=dns))
    one_line(exc, "https://mixed.test/feed", "mixed.test resolves to 10.0.0.7, a private address")
    assert network.connects == []


def test_trusted_sources_may_reach_loopback(network: NetworkLog) -> None:
    with LoopbackServer({"/feed": answer(200, FEED)}) as server:
        with pytest.raises(AddressRefused):
            fetch(server.url("/feed"), limits=LIMITS)
        assert network.connects == []
        assert fetch(server.url("/feed"), limits=LIMITS, trusted=True).content == FEED
    assert network.connects == [(LOOPBACK, server.port)]


def test_dns_rebinding_cannot_switch_the_address_after_the_check(network: NetworkLog) -> None:
    """The name is resolved once; the connection goes to the address that was checked, with the name as Host."""
    dns = FakeDNS({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    with LoopbackServer({"/feed": answer(200, FEED)}) as server:
        result = get(server.url("/feed", host="rebind.test"), policy=only_local(dns))
    assert result.content == FEED and result.url == f"http://rebind.test:{server.port}/feed"
    assert dns.calls == ["rebind.test"]
    assert server.seen[0].headers["host"] == f"rebind.test:{server.port}"
    assert network.connects == [(LOOPBACK, server.port)] and "rebind.test" not in network.lookups


def test_an_internationalised_name_is_resolved_and_sent_in_its_ascii_form() -> None:
    dns = FakeDNS({"xn--bcher-kva.test": [["127.0.0.1"]]})
    with LoopbackServer({"/feed": answer(200, FEED)}) as server:
        result = get(server.url("/feed", host="bücher.test"), policy=only_local(dns))
    assert result.content == FEED and dns.calls == ["xn--bcher-kva.test"]
    assert server.seen[0].headers["host"] == f"xn--bcher-kva.test:{server.port}"


def test_every_hop_is_resolved_and_checked_again(network: NetworkLog) -> None:
    dns = FakeDNS({"rebind.test": [["127.0.0.1"], ["169.254.169.254"]]})
    routes = {"/a": redirect("/b"), "/b": answer(200, FEED)}
    with LoopbackServer(routes) as server, pytest.raises(AddressRefused) as exc:
        get(server.url("/a", host="rebind.test"), policy=only_local(dns))
    one_line(exc, f"(redirected to http://rebind.test:{server.port}/b)", "169.254.169.254, the cloud metadata")
    assert dns.calls == ["rebind.test", "rebind.test"]
    assert network.connects == [(LOOPBACK, server.port)]


def test_the_next_checked_address_is_tried_when_one_refuses(network: NetworkLog) -> None:
    dns = FakeDNS({"two.test": [["127.0.0.2", "127.0.0.1"]]})  # the server listens on 127.0.0.1 only
    policy = AddressPolicy(allow=(ipaddress.ip_network("127.0.0.0/30"),), resolve=dns)
    with LoopbackServer({"/feed": answer(200, FEED)}) as server:
        assert get(server.url("/feed", host="two.test"), policy=policy).content == FEED
    assert network.connects == [("127.0.0.2", server.port), (LOOPBACK, server.port)]


def test_a_name_that_does_not_resolve_is_retryable() -> None:
    with pytest.raises(FetchRetryable) as exc:
        fetch("http://nowhere.test/feed", limits=LIMITS, policy=AddressPolicy(resolve=FakeDNS({})))
    one_line(exc, "http://nowhere.test/feed", "cannot resolve nowhere.test: Name or service not known")


def test_slow_name_resolution_counts_against_the_time_limit() -> None:
    release = threading.Event()

    def stuck(host: str, port: int) -> list[IPAddress]:
        release.wait(8)
        return [ipaddress.ip_address("127.0.0.1")]

    limits = FetchLimits(connect_timeout_s=0.5, total_timeout_s=5.0, max_bytes=1024)
    started = time.monotonic()
    try:
        with pytest.raises(FetchRetryable) as exc:
            fetch("http://slow.test/feed", limits=limits, policy=only_local(stuck))
    finally:
        release.set()
    assert time.monotonic() - started < 4
    one_line(exc, "resolving slow.test took longer than 0.5s")


# --- schemes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://127.0.0.1/feed", "only http and https"),
        ("gopher://127.0.0.1/", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("data:text/xml,<rss/>", "only http and https"),
        ("//127.0.0.1/feed", "only http and https"),
        ("http:///feed", "no host"),
        ("http://[::1/feed", "not a valid URL"),
        ("http://0177.0.0.1/", "not a valid URL (Invalid IPv4 address"),
    ],
)
def test_other_schemes_and_broken_urls_are_refused(url: str, reason: str, network: NetworkLog) -> None:
    with pytest.raises(FetchError) as exc:
        fetch(url, limits=LIMITS, trusted=True)
    one_line(exc, reason)
    assert network.connects == []


def test_file_urls_only_for_trusted_sources(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED)
    with pytest.raises(FetchError) as exc:
        fetch(feed.as_uri(), limits=LIMITS)
    one_line(exc, feed.as_uri(), "only read for sources marked `trusted: true`")
    assert fetch(feed.as_uri(), limits=LIMITS, trusted=True).content == FEED
    feed.write_bytes(b"x" * (LIMITS.max_bytes + 1))
    with pytest.raises(FetchError) as exc:
        fetch(feed.as_uri(), limits=LIMITS, trusted=True)
    one_line(exc, "over the cap")


# --- time limits ------------------------------------------------------------------------------------


def test_connect_timeout(network: NetworkLog) -> None:
    """A listener whose accept queue is full: the kernel drops further SYNs, so connecting hangs."""
    with socket.create_server((LOOPBACK, 0), backlog=0) as listener:
        port = listener.getsockname()[1]
        fillers: list[socket.socket] = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex((LOOPBACK, port))
                fillers.append(filler)
            probe = socket.socket()
            probe.settimeout(0.3)
            try:
                probe.connect((LOOPBACK, port))
                pytest.skip("this kernel accepts connections beyond a full backlog")
            except TimeoutError:
                pass
            finally:
                probe.close()
            limits = FetchLimits(connect_timeout_s=0.5, total_timeout_s=5.0, max_bytes=1024)
            started = time.monotonic()
            with pytest.raises(FetchRetryable) as exc:
                get(f"http://{LOOPBACK}:{port}/feed", limits=limits)
            assert time.monotonic() - started < 4
        finally:
            for filler in fillers:
                filler.close()
    one_line(exc, f"http://{LOOPBACK}:{port}/feed", "could not connect within 0.5s")


def test_a_closed_port_is_retryable() -> None:
    with socket.create_server((LOOPBACK, 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(FetchRetryable) as exc:
        get(f"http://{LOOPBACK}:{port}/feed")
    one_line(exc, "cannot connect", "refused")


def _stall(exchange: Exchange) -> None:
    exchange.pause(8)


def _headers_then_stall(exchange: Exchange) -> None:
    exchange.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n<rss>")
    exchange.pause(8)


def _trickle_body(exchange: Exchange) -> None:
    exchange.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while exchange.pause(0.05):
        exchange.write(b"x")


def _trickle_headers(exchange: Exchange) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 10_000:
        if not exchange.pause(0.05):
            return
        exchange.write(bytes([byte]))


@pytest.mark.parametrize(
    ("route", "connect_s", "total_s", "reason"),
    [
        (_stall, 0.5, 5.0, "the server sent nothing for 0.5s"),
        (_headers_then_stall, 0.5, 5.0, "the server sent nothing for 0.5s"),
        (_headers_then_stall, 5.0, 1.0, "took longer than the total time limit of 1s"),
        (_stall, 5.0, 1.0, "took longer than the total time limit of 1s"),
        (_trickle_body, 0.5, 1.0, "took longer than the total time limit of 1s"),
        (_trickle_headers, 0.5, 1.0, "took longer than the total time limit of 1s"),
    ],
    ids=[
        "silent",
        "stalled-body",
        "blocked-read-cut-at-total",
        "blocked-headers-cut-at-total",
        "trickled-body",
        "trickled-headers",
    ],
)
def test_slow_servers_are_cut_off(
    route: Callable[[Exchange], None], connect_s: float, total_s: float, reason: str
) -> None:
    limits = FetchLimits(connect_timeout_s=connect_s, total_timeout_s=total_s, max_bytes=1024 * 1024)
    with LoopbackServer({"/feed": route}) as server:
        started = time.monotonic()
        with pytest.raises(FetchRetryable) as exc:
            get(server.url("/feed"), limits=limits)
        assert time.monotonic() - started < 4  # cut well before the 5s the other limit would allow
    one_line(exc, server.url("/feed"), reason)


def test_the_read_timeout_can_differ_from_the_connect_timeout() -> None:
    limits = FetchLimits(connect_timeout_s=5.0, total_timeout_s=5.0, max_bytes=1024, read_timeout_s=0.5)
    with LoopbackServer({"/feed": _stall}) as server, pytest.raises(FetchRetryable) as exc:
        started = time.monotonic()
        get(server.url("/feed"), limits=limits)
    assert time.monotonic() - started < 4
    one_line(exc, "the server sent nothing for 0.5s")


def test_a_stalled_tls_handshake_is_cut_at_the_total_time_limit() -> None:
    def never_handshake(client: socket.socket, stopping: threading.Event) -> None:
        stopping.wait(8)

    limits = FetchLimits(connect_timeout_s=5.0, total_timeout_s=1.0, max_bytes=1024)
    with RawServer(never_handshake) as server:
        started = time.monotonic()
        with pytest.raises(FetchRetryable) as exc:
            get(f"https://{LOOPBACK}:{server.port}/feed", limits=limits)
        assert time.monotonic() - started < 4
    one_line(exc, "took longer than the total time limit of 1s")


# --- sizes ------------------------------------------------------------------------------------------

CAP = LIMITS.max_bytes


def _close_delimited(body: bytes, headers: bytes = b"") -> Callable[[Exchange], None]:
    """A body with no Content-Length: it ends when the server closes the connection."""
    return lambda exchange: exchange.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n" + headers + b"\r\n" + body)


def _chunked(body: bytes) -> Callable[[Exchange], None]:
    def route(exchange: Exchange) -> None:
        exchange.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        for start in range(0, len(body), 4096):
            piece = body[start : start + 4096]
            exchange.write(b"%x\r\n%b\r\n" % (len(piece), piece))
        exchange.write(b"0\r\n\r\n")

    return route


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (answer(200, b"x" * (CAP + 1)), f"declares {CAP + 1} bytes, over the cap of {CAP}"),
        (_close_delimited(b"x" * (4 * CAP)), f"the body is over the cap of {CAP} bytes"),
        (_chunked(b"x" * (4 * CAP)), f"the body is over the cap of {CAP} bytes"),
        (_close_delimited(b"x" * (CAP + 1)), f"the body is over the cap of {CAP} bytes"),
    ],
    ids=["content-length", "no-content-length", "chunked", "one-byte-over"],
)
def test_bodies_over_the_cap_are_refused(route: Callable[[Exchange], None], reason: str) -> None:
    with LoopbackServer({"/feed": route}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"))
    one_line(exc, server.url("/feed"), reason)


def test_a_body_of_exactly_the_cap_is_accepted() -> None:
    with LoopbackServer({"/feed": _close_delimited(b"x" * CAP)}) as server:
        assert get(server.url("/feed")).content == b"x" * CAP


def test_a_content_length_smaller_than_the_body_frames_the_body() -> None:
    """HTTP framing wins: the bytes past the declared length are never read, so they cannot pass the cap."""
    body = b"<rss>" + b"x" * (4 * CAP)
    with LoopbackServer({"/feed": answer(200, body, [("Content-Length", "100")])}) as server:
        assert get(server.url("/feed")).content == body[:100]


def test_a_content_length_larger_than_the_body_is_a_broken_response() -> None:
    routes = {"/feed": answer(200, b"<rss/>", [("Content-Length", "5000")])}
    with LoopbackServer(routes) as server, pytest.raises(FetchRetryable) as exc:
        get(server.url("/feed"))
    one_line(exc, server.url("/feed"), "broken HTTP response")


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """64 MiB of zeros, gzipped to about 64 KiB."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1024 * 1024)
    return b"".join(packer.compress(zeros) for _ in range(64)) + packer.flush()


def test_a_gzip_bomb_is_stopped_at_the_cap_without_inflating_it(gzip_bomb: bytes) -> None:
    cap = 1024 * 1024
    limits = FetchLimits(connect_timeout_s=2.0, total_timeout_s=5.0, max_bytes=cap)
    assert len(gzip_bomb) < cap // 8
    with LoopbackServer({"/feed": answer(200, gzip_bomb, [("Content-Encoding", "gzip")])}) as server:
        tracemalloc.start()
        try:
            with pytest.raises(FetchError) as exc:
                get(server.url("/feed"), limits=limits)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    one_line(exc, server.url("/feed"), f"over the cap of {cap} bytes after decompression")
    assert peak < 8 * cap  # nowhere near the 64 MiB the bomb inflates to


def _deflate_raw(data: bytes) -> bytes:
    return gzipped(data, -15)


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", gzipped),
        ("x-gzip", gzipped),
        ("deflate", lambda data: gzipped(data, 15)),
        ("deflate", _deflate_raw),
        ("gzip", lambda data: gzipped(data[:20]) + gzipped(data[20:])),
        ("identity", lambda data: data),
        ("gzip, identity", gzipped),
    ],
    ids=["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "gzip-two-members", "identity", "gzip-then-identity"],
)
def test_compressed_bodies_are_decoded(coding: str, encode: Callable[[bytes], bytes]) -> None:
    body = FEED * 50
    with LoopbackServer({"/feed": answer(200, encode(body), [("Content-Encoding", coding)])}) as server:
        assert get(server.url("/feed")).content == body


def test_a_compressed_body_is_streamed_in_small_network_reads() -> None:
    body = FEED * 200
    packed = gzipped(body)

    def dribble(exchange: Exchange) -> None:
        exchange.write(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
        for byte in packed[:64]:
            exchange.write(bytes([byte]))
        exchange.write(packed[64:])

    with LoopbackServer({"/feed": dribble}) as server:
        assert get(server.url("/feed")).content == body


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (answer(200, b"\x1f\x8bnot gzip at all", [("Content-Encoding", "gzip")]), "the gzip body does not decompress"),
        (_close_delimited(gzipped(FEED * 50)[:-30], b"Content-Encoding: gzip\r\n"), "cut short"),
        (answer(200, b"x", [("Content-Encoding", "br")]), "sent Content-Encoding 'br', which we do not decode"),
        (answer(200, b"x", [("Content-Encoding", "gzip, gzip")]), "which we do not decode"),
    ],
    ids=["corrupt", "truncated", "brotli", "double-gzip"],
)
def test_bad_compressed_bodies_are_permanent_errors(route: Callable[[Exchange], None], reason: str) -> None:
    with LoopbackServer({"/feed": route}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"))
    one_line(exc, server.url("/feed"), reason)


# --- TLS --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def test_ca() -> Certificate:
    return issue([], ca=True)


def test_a_self_signed_certificate_is_a_permanent_tls_error(tmp_path: Path, network: NetworkLog) -> None:
    context = issue([LOOPBACK, "localhost"]).server_context(tmp_path)
    with LoopbackServer({"/feed": answer(200, FEED)}, tls=context) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed"))
    one_line(exc, server.url("/feed"), "TLS error: certificate verify failed (self-signed certificate)")
    assert server.seen == []


def test_tls_to_a_pinned_address_verifies_the_name_and_sends_it_as_sni(
    tmp_path: Path, test_ca: Certificate, network: NetworkLog
) -> None:
    context = issue(["feed.test"], issuer=test_ca).server_context(tmp_path)
    dns = FakeDNS({"feed.test": [["127.0.0.1"]]})
    with LoopbackServer({"/feed": answer(200, FEED)}, tls=context) as server:
        result = get(
            server.url("/feed", host="feed.test"), policy=only_local(dns), ssl_context=test_ca.client_context()
        )
    assert result.content == FEED and result.url == f"https://feed.test:{server.port}/feed"
    assert server.sni == ["feed.test"]
    assert server.seen[0].headers["host"] == f"feed.test:{server.port}"
    assert network.connects == [(LOOPBACK, server.port)]


def test_a_certificate_for_another_name_is_a_permanent_tls_error(tmp_path: Path, test_ca: Certificate) -> None:
    context = issue(["feed.test"], issuer=test_ca).server_context(tmp_path)
    dns = FakeDNS({"other.test": [["127.0.0.1"]]})
    with LoopbackServer({"/feed": answer(200, FEED)}, tls=context) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed", host="other.test"), policy=only_local(dns), ssl_context=test_ca.client_context())
    one_line(exc, "TLS error: certificate verify failed (Hostname mismatch", "other.test")
    assert server.seen == []


def test_plain_http_on_an_https_url_is_a_permanent_tls_error() -> None:
    with LoopbackServer({"/feed": answer(200, FEED)}) as server, pytest.raises(FetchError) as exc:
        get(server.url("/feed").replace("http://", "https://"))
    one_line(exc, "TLS error: ")
