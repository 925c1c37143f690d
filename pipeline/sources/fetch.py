"""The one HTTP client of newsflow: timeouts, byte caps, address checks, conditional GET.

feedparser only ever sees the bytes this returns; its own fetcher (no timeout, no size cap,
follows file:// URLs) is never used.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from pipeline.errors import PermanentError, RetryableError
from schemas.models import Validators

MAX_REDIRECTS = 5


class FetchError(PermanentError):
    """The source answered with something we will not take (4xx, too large, refused address)."""


class FetchRetryable(RetryableError):
    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout_s: float = 5.0
    total_timeout_s: float = 30.0
    max_bytes: int = 10 * 1024 * 1024
    user_agent: str = "newsflow"


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int
    content: bytes | None  # None when not modified
    validators: Validators
    max_age_s: int | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def check_address(host: str, *, trusted: bool) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or reserved addresses unless trusted."""
    if trusted:
        return
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise FetchRetryable(f"cannot resolve {host}: {exc.strerror}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise FetchError(
                f"refused: {host} resolves to non-public address {address} "
                "(mark the source `trusted: true` to allow it)"
            )


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _max_age(cache_control: str | None) -> int | None:
    for part in (cache_control or "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "max-age" and value.strip().isdigit():
            return int(value.strip())
    return None


def read_file(url: str, max_bytes: int) -> FetchResult:
    path = Path(url2pathname(urlsplit(url).path))
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > max_bytes:
        raise FetchError(f"{path} is larger than the cap of {max_bytes} bytes")
    return FetchResult(url=url, status=200, content=data, validators=Validators())


def fetch(url: str, *, limits: FetchLimits, validators: Validators | None = None, trusted: bool = False) -> FetchResult:
    """GET a URL with conditional headers; follow redirects ourselves, checking every hop."""
    if urlsplit(url).scheme == "file":
        if not trusted:
            raise FetchError("file:// URLs are only read for sources marked `trusted: true`")
        return read_file(url, limits.max_bytes)
    headers = {
        "User-Agent": limits.user_agent,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
        "Accept-Encoding": "gzip, deflate",
    }
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    deadline = time.monotonic() + limits.total_timeout_s
    timeout = httpx.Timeout(limits.connect_timeout_s, connect=limits.connect_timeout_s)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise FetchError(f"refused: {url!r} is not an http(s) URL")
            check_address(parts.hostname, trusted=trusted)
            result = _get_once(client, url, headers, limits, deadline)
            if isinstance(result, str):
                url = result
                continue
            return result
    raise FetchError(f"too many redirects (more than {MAX_REDIRECTS}) from {url}")


def _get_once(
    client: httpx.Client, url: str, headers: dict[str, str], limits: FetchLimits, deadline: float
) -> FetchResult | str:
    """One request: a result, or the next URL when redirected."""
    try:
        with client.stream("GET", url, headers=headers) as resp:
            if resp.status_code in (301, 302, 303, 307, 308):
                location = resp.headers.get("location")
                if not location:
                    raise FetchError(f"{url} redirected with no Location")
                return str(urljoin(url, location))
            _raise_for_status(url, resp)
            found = Validators(etag=resp.headers.get("etag"), last_modified=resp.headers.get("last-modified"))
            max_age = _max_age(resp.headers.get("cache-control"))
            if resp.status_code == 304:
                return FetchResult(url, 304, None, found, max_age)
            declared = resp.headers.get("content-length")
            if (
                declared
                and declared.isdigit()
                and int(declared) > limits.max_bytes
                and not resp.headers.get("content-encoding")
            ):
                raise FetchError(f"{url} is {declared} bytes, over the cap of {limits.max_bytes}")
            body = bytearray()
            for chunk in resp.iter_bytes():  # decompressed: the cap holds for gzip bombs too
                body += chunk
                if len(body) > limits.max_bytes:
                    raise FetchError(f"{url} is over the cap of {limits.max_bytes} bytes (after decompression)")
                if time.monotonic() > deadline:
                    raise FetchRetryable(f"{url} took longer than {limits.total_timeout_s:.0f}s in total")
            return FetchResult(str(resp.url), resp.status_code, bytes(body), found, max_age)
    except httpx.TimeoutException as exc:
        raise FetchRetryable(f"{url} timed out ({type(exc).__name__})") from None
    except httpx.DecodingError as exc:
        raise FetchError(f"{url} sent a body that does not decompress: {exc}") from None
    except httpx.ConnectError as exc:
        if "CERTIFICATE" in str(exc).upper() or "SSL" in str(exc).upper():
            raise FetchError(f"TLS error with {url}: {exc}") from None
        raise FetchRetryable(f"cannot connect to {url}: {exc}") from None
    except httpx.TransportError as exc:
        raise FetchRetryable(f"network error with {url}: {exc}") from None


def _raise_for_status(url: str, resp: httpx.Response) -> None:
    status = resp.status_code
    if status == 304 or 200 <= status < 300:
        return
    if status == 429 or status >= 500 or status == 408:
        retry_after = _retry_after(resp.headers.get("retry-after"))
        raise FetchRetryable(f"{url} answered {status}; will retry", retry_after_s=retry_after)
    raise FetchError(f"{url} answered {status} {resp.reason_phrase}")
