"""Stock codes in a query, and the forms news prints them in.

A query may hold a code in any common form (`00388`, `0388`, `0388.HK`, `00388.HK`, `388.HK`,
`HK0388`; `600519`, `600519.SH`, `600519.SS`, `sh600519`; `INTC.O`, `NIO.N`, `AAPL.US`). `find_tickers`
finds such spans and reads each with the normalizer's own `normalize.tickers.normalize_ticker` (one
normal form: `0388.HK`, `600519.SH`, `INTC.US`), so a query's code and an article's `tickers` agree.
Only spans shaped like codes are read: a number that could be a year or an amount (`2021`, `388`)
and a word (`FDA`, `Chalco`, which the reader of a lone typed code would take for CHALC.O) are not.
`Ticker.forms` lists how news prints a code, to find the stories that print it without a `tickers`
entry (`港交所(00388.HK)` and `(0388.HK)` both hold the token 0388 or 00388 for the cjk analyzer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.normalize.tickers import normalize_ticker as _normal_form

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
        r"0\d{3,4}",
    )
)
_US_SUFFIXES = ("O", "OQ", "N", "A", "US")


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
