"""Stock codes in a query, and the forms news prints them in.

A query may hold a code in any common form (`00388`, `0388.HK`, `00388.HK`, `388.HK`, `HK0388`;
`600519`, `600519.SH`, `600519.SS`, `sh600519`; `INTC.O`, `NIO.N`, `AAPL.US`). `find_tickers` finds
such spans and reads each into one normal form (`0388.HK`, `600519.SH`, `INTC.US`: the convention of
the articles' `tickers`), so a query's code and an article's `tickers` agree. A bare number that could
be a year or an amount (`2021`, `0388`), and bare letters (`FDA`), are not taken for codes.
`Ticker.forms` lists how news prints a code, to find the stories that print it without a `tickers`
entry (`港交所(00388.HK)` and `(0388.HK)` both hold the token 0388 or 00388 for the cjk analyzer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BEFORE = r"(?<![A-Za-z0-9.])"
_AFTER = r"(?![A-Za-z0-9])"
# Candidate spans, most specific first; each is then read by the normalizer's normalize_ticker.
_CANDIDATES = tuple(
    re.compile(_BEFORE + pattern + _AFTER, re.IGNORECASE)
    for pattern in (
        r"\d{1,5}\.HK",
        r"HK\.?\d{4,5}",
        r"\d{6}\.(?:SH|SS|SZ|BJ)",
        r"(?:SH|SZ|BJ)\.?\d{6}",
        r"[A-Z]{1,5}\.(?:OQ|O|N|A|US)",
        r"\d{6}",
        r"0\d{4}",
    )
)
_US_SUFFIXES = ("O", "OQ", "N", "A", "US")
_A_SHARE_MARKETS = {"6": "SH", "9": "SH", "5": "SH", "0": "SZ", "2": "SZ", "3": "SZ", "1": "SZ", "4": "BJ", "8": "BJ"}
_READ = re.compile(
    r"(?P<prefix>SH|SS|SZ|BJ|HK)?[.:]?(?P<code>\d{1,6}|[A-Z]{1,5})(?:\.(?P<suffix>SH|SS|SZ|BJ|HK|OQ|O|N|A|US))?",
    re.IGNORECASE,
)


def _normal_form(text: str) -> str | None:
    """`0388.HK`, `600519.SH`, `INTC.US`: the normal form of one code, the normalizer's convention."""
    match = _READ.fullmatch(text.strip())
    if match is None:
        return None
    code = match["code"].upper()
    marker = (match["prefix"] or match["suffix"] or "").upper()
    if match["prefix"] and match["suffix"]:
        return None
    if marker == "HK" or (not marker and code.isdigit() and len(code) == 5 and code.startswith("0")):
        number = int(code) if code.isdigit() else 0
        return f"{number:04d}.HK" if 0 < number < 100_000 else None
    if marker in _US_SUFFIXES:
        return f"{code}.US" if code.isalpha() else None
    if code.isdigit() and len(code) == 6:
        market = {"SS": "SH"}.get(marker, marker) or _A_SHARE_MARKETS.get(code[0])
        return f"{code}.{market}" if market else None
    return None


@dataclass(frozen=True, order=True)
class Ticker:
    code: str  # digits (Hong Kong: at least four; A shares: six) or a US symbol
    market: str  # HK, SH, SZ, BJ or US

    @classmethod
    def parse(cls, text: str) -> Ticker | None:
        """The ticker of one code written in one of the forms `find_tickers` reads, or None."""
        normal = _normal_form(text)
        if normal is None:
            return None
        code, _, market = normal.rpartition(".")
        return cls(code, market)

    @property
    def normalized(self) -> str:
        return f"{self.code}.{self.market}"

    @property
    def forms(self) -> tuple[str, ...]:
        """How news prints this code (`港交所(00388.HK)`, `(0388.HK)`, `贵州茅台(600519)`, `英特尔(INTC.O)`)."""
        if self.market == "HK":
            return tuple(dict.fromkeys((self.code.zfill(5), self.code)))
        if self.code.isdigit():
            return (self.code,)
        # A bare symbol of one or two letters (C, MS, LI) is too often something else to be matched alone.
        bare = (self.code,) if len(self.code) >= 3 else ()
        return (*bare, *(f"{self.code}.{suffix}" for suffix in _US_SUFFIXES))


def normalize_ticker(text: str) -> str | None:
    """The normal form of a code written alone in one of the forms `find_tickers` reads (`00388` ->
    `0388.HK`), or None: unlike the filter parameter's reading, a word (`Chalco`) is never a code here."""
    text = text.strip()
    found = find_tickers(text)
    return found[0][2].normalized if len(found) == 1 and found[0][:2] == (0, len(text)) else None


def find_tickers(text: str) -> list[tuple[int, int, Ticker]]:
    """Every code in `text`: (start, end, ticker), left to right, never overlapping."""
    found: list[tuple[int, int, Ticker]] = []
    for pattern in _CANDIDATES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e, _ in found):
                continue
            ticker = Ticker.parse(match.group(0))
            if ticker is not None:
                found.append((start, end, ticker))
    return sorted(found)
