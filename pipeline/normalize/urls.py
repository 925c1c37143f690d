"""Canonical URLs: the form under which one story is known, whatever link a source gave.

- Only http and https URLs are kept (javascript:, mailto:, data: ... give None).
- Protocol-relative `//host/x` becomes `https://host/x`; relative links resolve against the base.
- Scheme and host are lowercased, a trailing dot and the default port are dropped, and so are
  user names and passwords; an empty path becomes `/`. Line breaks inside a link (wrapped feeds)
  are removed; a remaining space is escaped as %20.
- The fragment is dropped (it never names a different document for a news page).
- Tracking parameters are dropped (`utm_*`, `fbclid`, `gclid`, `spm`, `from`, ...; see `TRACKING`);
  every other parameter is kept, in its original order and spelling (`infoCode=...` stays).
- Characters that are not allowed in a URL (spaces, non-ASCII) are percent-encoded as UTF-8 and
  existing escapes are uppercased, so the raw and the escaped spelling of a link agree.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

TRACKING = frozenset(
    {
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "_openstat",
        "cmpid",
        "dclid",
        "fbclid",
        "from",
        "gbraid",
        "gclid",
        "gclsrc",
        "icid",
        "igsh",
        "igshid",
        "isappinstalled",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "msclkid",
        "ncid",
        "ocid",
        "rb_clickid",
        "ref_src",
        "ref_url",
        "s_cid",
        "scm",
        "share_source",
        "share_medium",
        "share_token",
        "spm",
        "sr_share",
        "srsltid",
        "ttclid",
        "twclid",
        "wbraid",
        "wickedid",
        "xtor",
        "yclid",
    }
)
TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "vero_", "oly_", "hsa_")

_SAFE_PATH = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"
_ESCAPE = re.compile(r"%[0-9a-f]{2}")
# A part made only of these needs no quoting (the common case): `quote` would return it unchanged.
_PLAIN_PATH = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=\-._~]*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=\-._~?]*")
_PLAIN = {_SAFE_PATH: _PLAIN_PATH, _SAFE_QUERY: _PLAIN_QUERY}
_WRAP = re.compile(r"\s*[\r\n\t]\s*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING or lowered.startswith(TRACKING_PREFIXES)


def _absolute(url: str, base: str | None) -> str:
    if url.startswith("//"):
        return "https:" + url
    if base and not urlsplit(url).scheme:
        base = "https:" + base if base.startswith("//") else base
        return urljoin(base, url)
    return url


def _escape(part: str, safe: str) -> str:
    if _PLAIN[safe].fullmatch(part):
        return part
    part = quote(part, safe=safe)
    return _ESCAPE.sub(lambda m: m.group(0).upper(), part) if "%" in part else part


def _query(query: str) -> str:
    kept = [
        _escape(pair, _SAFE_QUERY)
        for pair in query.split("&")
        if pair and not is_tracking_param(unquote_plus(pair.split("=", 1)[0]))
    ]
    return "&".join(kept)


def canonical_url(url: str | None, *, base: str | None = None) -> str | None:
    """The canonical form of a link (resolved against `base` when relative), or None if it is not http(s)."""
    if not url:
        return None
    text = url.strip()
    if not text.isprintable():
        text = _WRAP.sub("", text)  # a long link wrapped over lines in the feed
    if not text:
        return None
    try:
        parts = urlsplit(_absolute(text, base))
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _escape(parts.path or "/", _SAFE_PATH)
    return urlunsplit((scheme, netloc, path, _query(parts.query), ""))


def is_absolute_http(url: str | None) -> bool:
    """True for an absolute http(s) URL (protocol-relative counts: it is https)."""
    if not url:
        return False
    return url.startswith("//") or urlsplit(url.strip()).scheme.lower() in _DEFAULT_PORTS
