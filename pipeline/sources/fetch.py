"""The one HTTP client of newsflow: timeouts, byte caps, address checks, conditional GET.

feedparser only ever sees the bytes this returns; its own fetcher (no timeout, no size cap,
follows file:// URLs) is never used.

How a fetch is made safe against a hostile or broken source:

- Addresses. Before each request (the first and every redirect hop) the host is resolved once and
  every address it resolves to is checked against an `AddressPolicy` (public addresses only, by
  default). The checked addresses are then *pinned*: the connection pool's network backend
  (`_PinnedBackend`) is the only code that opens sockets, and it connects only to the pinned IPs,
  never resolving the name again. The URL itself is not rewritten, so the Host header, TLS SNI and
  certificate hostname check all still use the original name. A DNS answer that changes between
  the check and the connection (DNS rebinding) therefore has nothing to act on.
  We use httpcore (httpx's own transport layer, installed with it) directly rather than an
  `httpx.Client`, because httpcore lets us supply that network backend through its public API,
  and because we follow redirects and undo Content-Encoding ourselves anyway.
- Time. One deadline covers resolution, connecting, TLS, every hop and the whole body. Each socket
  operation gets the smaller of its own timeout and the time left (`_BoundedStream`), so a server
  that trickles a byte at a time is cut off at the total, and a blocked read cannot outlive it.
  (CPython applies a socket timeout to a TLS handshake as a whole.)
- Size. The cap counts bytes *after* decompression, and decompression runs in bounded pieces
  (`_Decoder`), so a gzip bomb is stopped at the cap without ever being inflated in memory.
"""

from __future__ import annotations

import http
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeAlias
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpcore
import httpx

from pipeline.errors import NewsflowError, PermanentError, RetryableError
from schemas.models import Validators

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PIECE = 64 * 1024  # the most bytes one decompression step may produce
_SHOWN_URL_CHARS = 200

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver: TypeAlias = Callable[[str, int], Sequence[IPAddress]]


class FetchError(PermanentError):
    """The source answered with something we will not take (4xx, too large, refused address, TLS failure)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status that was refused, when it was one


class TooLarge(FetchError):
    """The body is over the byte cap (declared, or counted after decompression)."""


class AddressRefused(FetchError):
    """The URL, or a redirect, leads to an address the source may not reach (loopback, private, metadata...)."""


class FetchRetryable(RetryableError):
    def __init__(self, message: str, retry_after_s: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.status = status  # 408, 429 or 5xx when the server answered


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout_s: float = 5.0
    total_timeout_s: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    user_agent: str = "newsflow"
    read_timeout_s: float | None = None  # most seconds without a byte; None: connect_timeout_s
    accept: str = ACCEPT

    @property
    def idle_timeout_s(self) -> float:
        return self.connect_timeout_s if self.read_timeout_s is None else self.read_timeout_s


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes | None  # None when not modified
    validators: Validators
    max_age_s: int | None = None
    content_type: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


# --- addresses ----------------------------------------------------------------------------------


def resolve_system(host: str, port: int) -> list[IPAddress]:
    """The operating system's resolver. It also reads 2130706433, 0x7f.0.0.1 and 127.1 as 127.0.0.1,
    so those spellings are checked as the address they really are."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))


_NOT_PUBLIC: tuple[tuple[IPNetwork, str], ...] = tuple(
    (ipaddress.ip_network(network), label)
    for network, label in (
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("127.0.0.0/8", "a loopback address"),
        ("10.0.0.0/8", "a private address"),
        ("172.16.0.0/12", "a private address"),
        ("192.168.0.0/16", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
        ("169.254.169.254/32", "the cloud metadata address (link-local)"),
        ("169.254.0.0/16", "a link-local address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("fe80::/10", "a link-local address"),
        ("fd00:ec2::254/128", "the cloud metadata address (unique local)"),
        ("fc00::/7", "a private (unique local) address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
        ("::/8", "a reserved address"),
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _not_public_label(address: IPAddress) -> str | None:
    for network, label in _NOT_PUBLIC:
        if address in network:
            return label
    if address.is_reserved or address.is_multicast or not address.is_global:
        return "a special-purpose address (not globally routable)"
    return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64, 6to4): traffic goes there."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return address.sixtofour


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses an untrusted source may reach, and how host names become addresses.

    The default admits public unicast addresses only: no loopback, private, link-local (so not the
    cloud metadata address), carrier-grade NAT, unspecified, multicast or reserved address, judged
    through IPv4-mapped, NAT64 and 6to4 IPv6 forms too. `allow` lists exceptions (tests admit their
    own server at 127.0.0.1/32; an operator could admit one internal network). `resolve` turns a
    name into addresses; fetch() calls it once per hop and connects only to what it returned.
    Sources marked `trusted` skip the check, but not the pinning.
    """

    allow: tuple[IPNetwork, ...] = ()
    resolve: Resolver = resolve_system

    def refusal(self, address: IPAddress) -> str | None:
        """What kind of address this is when the policy refuses it ("a loopback address"), else None."""
        if self._allowed(address):
            return None
        embedded = _embedded_ipv4(address)
        if embedded is None:
            return _not_public_label(address)
        if self._allowed(embedded):
            return None
        label = _not_public_label(embedded)
        return None if label is None else f"{label} (IPv4 {embedded} written as IPv6)"

    def _allowed(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allow)


PUBLIC_ONLY = AddressPolicy()


def check_address(
    host: str,
    port: int = 0,
    *,
    trusted: bool,
    policy: AddressPolicy = PUBLIC_ONLY,
    timeout_s: float | None = None,
) -> tuple[IPAddress, ...]:
    """The addresses `host` resolves to, each one allowed by `policy` unless `trusted`: connect only to these.

    Raises AddressRefused when any address is refused (a name that also resolves to a private address
    is not fetched), FetchRetryable when the name does not resolve (within `timeout_s`).
    """
    addresses = _resolve(host, port, policy.resolve, timeout_s)
    if not addresses:
        raise FetchRetryable(f"{host} resolves to no address")
    if trusted:
        return addresses
    for address in addresses:
        label = policy.refusal(address)
        if label is None:
            continue
        what = f"{host} is {label}" if _is_literal(host) else f"{host} resolves to {address}, {label}"
        raise AddressRefused(f"refused: {what} (mark the source `trusted: true` to allow it)")
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _resolve(host: str, port: int, resolve: Resolver, timeout_s: float | None) -> tuple[IPAddress, ...]:
    """Resolve with a time limit: getaddrinfo has none of its own, so it runs in a thread we stop waiting for."""
    if _is_literal(host):
        return (ipaddress.ip_address(host),)
    outcome: list[Sequence[IPAddress] | OSError | UnicodeError] = []

    def run() -> None:
        try:
            outcome.append(resolve(host, port))
        except (OSError, UnicodeError) as exc:
            outcome.append(exc)

    if timeout_s is None:
        run()
    else:
        worker = threading.Thread(target=run, name=f"newsflow-resolve-{host}", daemon=True)
        worker.start()
        worker.join(timeout_s)
    if not outcome:
        raise FetchRetryable(f"resolving {host} took longer than {timeout_s:g}s")
    found = outcome[0]
    if isinstance(found, OSError | UnicodeError):
        reason = found.strerror if isinstance(found, OSError) and found.strerror else str(found)
        raise FetchRetryable(f"cannot resolve {host}: {_one_line(reason)}")
    return tuple(dict.fromkeys(found))


# --- time ----------------------------------------------------------------------------------------


class _Deadline:
    def __init__(self, total_s: float) -> None:
        self.total_s = total_s
        self._at = time.monotonic() + total_s

    def left(self) -> float:
        return self._at - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0

    def bound(self, timeout: float | None, expired: type[httpcore.TimeoutException]) -> float:
        """`timeout`, shortened to the time left; `expired` raised when none is left."""
        left = self.left()
        if left <= 0:
            raise expired(f"the total time limit of {self.total_s:g}s was reached")
        return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        try:
            bounded = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        except httpcore.ConnectTimeout:
            self._inner.close()
            raise
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname, bounded), self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Opens connections only to the addresses fetch() checked for each host (never resolving again)."""

    def __init__(self, deadline: _Deadline) -> None:
        self._sockets = httpcore.SyncBackend()
        self._deadline = deadline
        self._pinned: dict[tuple[str, int], tuple[IPAddress, ...]] = {}

    def pin(self, host: str, port: int, addresses: tuple[IPAddress, ...]) -> None:
        self._pinned[(host, port)] = addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._pinned.get((host, port))
        if not addresses:
            raise AddressRefused(f"refused: {host}:{port} was not checked before connecting")
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:  # in the resolver's order, as getaddrinfo intends
            try:
                stream = self._sockets.connect_tcp(
                    str(address),
                    port,
                    timeout=self._deadline.bound(timeout, httpcore.ConnectTimeout),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            return _BoundedStream(stream, self._deadline)
        assert failure is not None
        raise failure


# --- bodies --------------------------------------------------------------------------------------


def _content_coding(value: str | None) -> str | None:
    """ "identity", "gzip" or "deflate" for a Content-Encoding header; None for one we do not decode."""
    codings = [c.strip().lower() for c in (value or "").split(",") if c.strip().lower() not in ("", "identity")]
    if not codings:
        return "identity"
    if codings in (["gzip"], ["x-gzip"]):
        return "gzip"
    if codings == ["deflate"]:
        return "deflate"
    return None


class _Decoder:
    """Undoes a Content-Encoding a bounded piece at a time.

    Each step inflates at most _PIECE bytes, so a gzip bomb meets the cap one piece past it, rather
    than after inflating a whole network read (about 1000 times its size for deflate).
    """

    def __init__(self, coding: str) -> None:
        self._coding = coding
        self._zlib: zlib._Decompress | None = None
        self._head = b""
        self._done = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._coding == "identity":
            if data:
                yield data
            return
        if self._zlib is None:
            self._head += data
            if len(self._head) < 2:
                return
            data, self._head = self._head, b""
            self._zlib = zlib.decompressobj(self._wbits(data))
        yield from self._inflate(self._zlib, data)

    def finish(self) -> Iterator[bytes]:
        if self._coding == "identity" or (self._zlib is None and not self._head):
            return
        if self._zlib is None:
            raise zlib.error("the compressed body is cut short")
        tail = self._zlib.flush()
        if tail:
            yield tail
        if not self._zlib.eof:
            raise zlib.error("the compressed body is cut short")

    def _wbits(self, head: bytes) -> int:
        if self._coding == "gzip":
            return 16 + zlib.MAX_WBITS
        # "deflate" means a zlib stream (RFC 9110), but some servers send raw deflate: tell by the header.
        cmf, flg = head[0], head[1]
        is_zlib = cmf & 0x0F == 8 and (cmf << 8 | flg) % 31 == 0
        return zlib.MAX_WBITS if is_zlib else -zlib.MAX_WBITS

    def _inflate(self, inflater: zlib._Decompress, data: bytes) -> Iterator[bytes]:
        while data and not self._done:
            piece = inflater.decompress(data, _PIECE)
            if piece:
                yield piece
            if not inflater.eof:
                data = inflater.unconsumed_tail
            elif self._coding == "gzip" and inflater.unused_data.startswith(b"\x1f\x8b"):
                data = inflater.unused_data  # another gzip member follows (RFC 1952 allows several)
                self._zlib = inflater = zlib.decompressobj(self._wbits(data))
            else:
                self._done = True  # trailing bytes after the stream are ignored, as gzip(1) does


# --- requests ------------------------------------------------------------------------------------


class _Headers:
    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in raw:
            self._values.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1").strip())

    def first(self, name: str) -> str | None:
        values = self._values.get(name)
        return values[0] if values else None

    def joined(self, name: str) -> str | None:
        values = self._values.get(name)
        return ", ".join(values) if values else None


@dataclass(frozen=True)
class _Hop:
    """One request of a fetch: the URL asked for, this hop's URL, and every URL requested so far."""

    origin: str
    url: httpx.URL
    chain: tuple[str, ...]

    @classmethod
    def first(cls, url: str) -> _Hop:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise FetchError(f"{_show(url)}: not a valid URL ({_one_line(str(exc))})") from None
        return cls(url, parsed, (_key(parsed),))

    def where(self) -> str:
        here = _show(str(self.url))
        return here if len(self.chain) == 1 else f"{_show(self.origin)} (redirected to {here})"

    def error(self, reason: str) -> str:
        return f"{self.where()}: {reason}"

    def follow(self, location: str) -> _Hop:
        try:
            target = self.url.join(location)
        except (httpx.InvalidURL, TypeError, ValueError):
            raise FetchError(self.error(f"redirected to an invalid URL {_show(location)!r}")) from None
        key = _key(target)
        if key in self.chain:
            loop = " -> ".join(_show(url) for url in (*self.chain[self.chain.index(key) :], key))
            raise FetchError(f"{_show(self.origin)}: redirect loop: {loop}")
        if len(self.chain) > MAX_REDIRECTS:
            raise FetchError(self.error(f"too many redirects (more than {MAX_REDIRECTS}); next was {_show(key)}"))
        return _Hop(self.origin, target, (*self.chain, key))

    @property
    def host(self) -> str:
        return self.url.raw_host.decode("ascii")

    @property
    def port(self) -> int:
        return self.url.port or _DEFAULT_PORTS[self.url.scheme]

    def host_header(self) -> bytes:
        host = self.url.raw_host
        host = b"[" + host + b"]" if b":" in host else host
        return host if self.url.port is None else b"%b:%d" % (host, self.url.port)

    def core_url(self) -> httpcore.URL:
        return httpcore.URL(
            scheme=self.url.raw_scheme, host=self.url.raw_host, port=self.url.port, target=self.url.raw_path
        )


def _key(url: httpx.URL) -> str:
    return str(url.copy_with(fragment=None))


def fetch(
    url: str,
    *,
    limits: FetchLimits,
    validators: Validators | None = None,
    trusted: bool = False,
    policy: AddressPolicy = PUBLIC_ONLY,
    ssl_context: ssl.SSLContext | None = None,
) -> FetchResult:
    """GET a source's URL: conditional headers, our User-Agent, redirects followed here with every hop
    checked and pinned (see the module docstring), one deadline and a decompressed-size cap.

    Raises FetchError (permanent: 4xx, over the cap, refused address, TLS failure, redirect loop)
    or FetchRetryable (timeouts, network errors, 5xx, 429 with `retry_after_s` from Retry-After).
    `file://` URLs are read only for trusted sources. User info in a URL is never sent.
    """
    hop = _Hop.first(url)
    if hop.url.scheme == "file":
        if not trusted:
            raise FetchError(f"{_show(url)}: file:// URLs are only read for sources marked `trusted: true`")
        return read_file(url, limits.max_bytes)
    deadline = _Deadline(limits.total_timeout_s)
    backend = _PinnedBackend(deadline)
    headers = _request_headers(limits, validators)
    with httpcore.ConnectionPool(
        ssl_context=ssl_context or httpcore.default_ssl_context(), network_backend=backend, retries=0
    ) as pool:
        while True:
            addresses = _checked_addresses(hop, trusted, policy, limits, deadline)
            backend.pin(hop.host, hop.port, addresses)
            outcome = _exchange(pool, hop, headers, limits, deadline, validators)
            if isinstance(outcome, FetchResult):
                return outcome
            hop = hop.follow(outcome)


def _checked_addresses(
    hop: _Hop, trusted: bool, policy: AddressPolicy, limits: FetchLimits, deadline: _Deadline
) -> tuple[IPAddress, ...]:
    """The addresses this hop may connect to, resolved once and checked."""
    if deadline.passed():
        raise FetchRetryable(hop.error(_total_time_reason(limits)))
    if hop.url.scheme not in _DEFAULT_PORTS:
        raise FetchError(hop.error(f"refused: only http and https URLs are fetched, not {hop.url.scheme!r}"))
    if not hop.url.raw_host:
        raise FetchError(hop.error("the URL has no host"))
    timeout_s = min(limits.connect_timeout_s, max(deadline.left(), 0.0))
    try:
        return check_address(hop.host, hop.port, trusted=trusted, policy=policy, timeout_s=timeout_s)
    except AddressRefused as exc:
        raise AddressRefused(hop.error(str(exc))) from None
    except FetchRetryable as exc:
        raise FetchRetryable(hop.error(str(exc))) from None


def _request_headers(limits: FetchLimits, validators: Validators | None) -> list[tuple[bytes, bytes]]:
    headers = [("User-Agent", limits.user_agent), ("Accept", limits.accept), ("Accept-Encoding", "gzip, deflate")]
    if validators and validators.etag:
        headers.append(("If-None-Match", validators.etag))
    if validators and validators.last_modified:
        headers.append(("If-Modified-Since", validators.last_modified))
    return [(name.encode("ascii"), value.encode("latin-1", "replace")) for name, value in headers]


def _exchange(
    pool: httpcore.ConnectionPool,
    hop: _Hop,
    headers: list[tuple[bytes, bytes]],
    limits: FetchLimits,
    deadline: _Deadline,
    sent: Validators | None,
) -> FetchResult | str:
    """One request: its result, or the Location it redirects to."""
    idle = limits.idle_timeout_s
    timeouts = {"connect": limits.connect_timeout_s, "read": idle, "write": idle, "pool": idle}
    try:
        with pool.stream(
            b"GET", hop.core_url(), headers=[(b"Host", hop.host_header()), *headers], extensions={"timeout": timeouts}
        ) as response:
            return _answer(response, hop, limits, deadline, sent)
    except httpcore.TimeoutException as exc:
        raise FetchRetryable(hop.error(_timeout_reason(exc, limits, deadline))) from None
    except httpcore.ConnectError as exc:
        raise _connect_failure(exc, hop) from None
    except httpcore.RemoteProtocolError as exc:
        raise FetchRetryable(hop.error(f"broken HTTP response ({_one_line(str(exc))})")) from None
    except httpcore.NetworkError as exc:
        raise FetchRetryable(hop.error(f"network error ({_one_line(str(exc)) or type(exc).__name__})")) from None
    except (httpcore.LocalProtocolError, httpcore.UnsupportedProtocol) as exc:
        raise FetchError(hop.error(f"cannot send the request ({_one_line(str(exc))})")) from None


def _timeout_reason(exc: httpcore.TimeoutException, limits: FetchLimits, deadline: _Deadline) -> str:
    if deadline.passed():
        return _total_time_reason(limits)
    if isinstance(exc, httpcore.ConnectTimeout):
        return f"timed out: could not connect within {limits.connect_timeout_s:g}s"
    return f"timed out: the server sent nothing for {limits.idle_timeout_s:g}s"


def _total_time_reason(limits: FetchLimits) -> str:
    return f"timed out: took longer than the total time limit of {limits.total_timeout_s:g}s"


def _connect_failure(exc: httpcore.ConnectError, hop: _Hop) -> NewsflowError:
    tls = _ssl_cause(exc)
    if tls is None:
        return FetchRetryable(hop.error(f"cannot connect ({_one_line(str(exc))})"))
    if isinstance(tls, ssl.SSLEOFError | ssl.SSLZeroReturnError):
        return FetchRetryable(hop.error("TLS error: the server closed the connection during the handshake"))
    if isinstance(tls, ssl.SSLCertVerificationError):
        return FetchError(hop.error(f"TLS error: certificate verify failed ({_one_line(tls.verify_message)})"))
    return FetchError(hop.error(f"TLS error: {_one_line(tls.reason or str(tls))}"))


def _ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _answer(
    response: httpcore.Response, hop: _Hop, limits: FetchLimits, deadline: _Deadline, sent: Validators | None
) -> FetchResult | str:
    status = response.status
    headers = _Headers(response.headers)
    if status in REDIRECT_STATUSES:
        location = headers.first("location")
        if not location:
            raise FetchError(hop.error(f"answered {status} without a Location to redirect to"))
        return location
    max_age = _max_age(headers.joined("cache-control"))
    if status == 304:
        kept = sent or Validators()
        found = Validators(
            etag=headers.first("etag") or kept.etag, last_modified=headers.first("last-modified") or kept.last_modified
        )
        return FetchResult(str(hop.url), 304, None, found, max_age)
    _raise_for_status(status, _reason(response), headers, hop)
    found = Validators(etag=headers.first("etag"), last_modified=headers.first("last-modified"))
    body = _read_body(response, headers, hop, limits, deadline)
    return FetchResult(str(hop.url), status, body, found, max_age, headers.first("content-type"))


def _reason(response: httpcore.Response) -> str:
    phrase = response.extensions.get("reason_phrase", b"")
    text = _one_line(phrase.decode("latin-1")) if isinstance(phrase, bytes) else ""
    if not text:
        try:
            text = http.HTTPStatus(response.status).phrase
        except ValueError:
            text = ""
    return f"{response.status} {text}".strip()


def _raise_for_status(status: int, reason: str, headers: _Headers, hop: _Hop) -> None:
    if 200 <= status < 300:
        return
    if status in (408, 429) or 500 <= status < 600:
        retry_after = _retry_after(headers.first("retry-after"))
        when = "" if retry_after is None else f" (the server asked to wait {retry_after:.0f}s)"
        raise FetchRetryable(
            hop.error(f"answered {reason}; will retry{when}"), retry_after_s=retry_after, status=status
        )
    raise FetchError(hop.error(f"answered {reason}"), status=status)


def _read_body(
    response: httpcore.Response, headers: _Headers, hop: _Hop, limits: FetchLimits, deadline: _Deadline
) -> bytes:
    cap = limits.max_bytes
    coding = _content_coding(headers.joined("content-encoding"))
    if coding is None:
        raise FetchError(
            hop.error(f"sent Content-Encoding {headers.joined('content-encoding')!r}, which we do not decode")
        )
    declared = headers.first("content-length")
    if coding == "identity" and declared and declared.isdigit() and int(declared) > cap:
        raise TooLarge(hop.error(f"declares {declared} bytes, over the cap of {cap}"))
    over = f"the body is over the cap of {cap} bytes" + ("" if coding == "identity" else " after decompression")
    decoder = _Decoder(coding)
    body = bytearray()
    try:
        for chunk in response.iter_stream():
            for piece in decoder.feed(chunk):
                if len(body) + len(piece) > cap:
                    raise TooLarge(hop.error(over))
                body += piece
            if deadline.passed():
                raise httpcore.ReadTimeout("the total time limit was reached")
        for piece in decoder.finish():
            if len(body) + len(piece) > cap:
                raise TooLarge(hop.error(over))
            body += piece
    except zlib.error as exc:
        raise FetchError(hop.error(f"the {coding} body does not decompress ({_one_line(str(exc))})")) from None
    return bytes(body)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP-date."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def _max_age(cache_control: str | None) -> int | None:
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        value = value.strip().strip('"')
        if name.strip().lower() == "max-age" and value.isascii() and value.isdigit():
            return int(value)
    return None


def read_file(url: str, max_bytes: int) -> FetchResult:
    path = Path(url2pathname(urlsplit(url).path))
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(f"{_show(url)}: cannot read {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise TooLarge(f"{_show(url)}: the file is over the cap of {max_bytes} bytes")
    return FetchResult(url=url, status=200, content=data, validators=Validators())


# --- messages ------------------------------------------------------------------------------------

_USERINFO = re.compile(r"(?<=//)[^/?#@]*@")


def _one_line(text: str) -> str:
    """Text from a server or a library, made safe to put in a one-line message."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(printable.split())


def _show(url: str) -> str:
    """A URL as a message shows it: one line, no user info (it may hold a password), not too long."""
    shown = _one_line(_USERINFO.sub("***@", url, count=1))
    return shown if len(shown) <= _SHOWN_URL_CHARS else shown[: _SHOWN_URL_CHARS - 1] + "…"
