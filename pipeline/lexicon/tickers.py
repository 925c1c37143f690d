"""Stock codes as editors type them and as news prints them.

A code is recognized in any common form and reduced to one normal form:
- Hong Kong: `00388`, `0388.HK`, `00388.HK`, `388.HK`, `HK0388`, `HK.00388` -> `0388.HK` (four digits at least);
- mainland A shares: `600519`, `600519.SH`, `600519.SS`, `SH600519`, `sh.600519` -> `600519.SH`, the exchange taken
  from the suffix or prefix, else from the first digits (6 and 9: Shanghai, 0, 2 and 3: Shenzhen, 4 and 8: Beijing);
- US listings: `INTC.O`, `TSLA.OQ`, `CS.N` -> `INTC.O` (the exchange suffix kept, upper case).
A bare five-digit number is a Hong Kong code only when it starts with 0 (`00388`); bare four-digit numbers
(`2021`, `0388`) and bare letters (`FDA`) are never taken for codes: too many are not.
`forms` lists how the code appears in news text, for matching the text it was printed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOUNDARY_BEFORE = r"(?<![A-Za-z0-9.])"
_BOUNDARY_AFTER = r"(?![A-Za-z0-9])"
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (market, re.compile(_BOUNDARY_BEFORE + pattern + _BOUNDARY_AFTER, re.IGNORECASE))
    for market, pattern in (
        ("HK", r"(?P<code>\d{1,5})\.HK"),
        ("HK", r"HK\.?(?P<code>\d{4,5})"),
        ("A", r"(?P<code>\d{6})\.(?P<exchange>SH|SS|SZ|BJ)"),
        ("A", r"(?P<exchange>SH|SZ|BJ)\.?(?P<code>\d{6})"),
        ("US", r"(?P<code>[A-Z]{1,5})\.(?P<exchange>OQ|O|N|A)"),
        ("A", r"(?P<code>\d{6})"),
        ("HK", r"(?P<code>0\d{4})"),
    )
)
_A_EXCHANGES = {"SS": "SH", "SH": "SH", "SZ": "SZ", "BJ": "BJ"}


@dataclass(frozen=True, order=True)
class Ticker:
    code: str  # digits (HK: at least four; A shares: six) or letters (US)
    exchange: str  # HK, SH, SZ, BJ, or a US suffix (O, OQ, N, A)

    @property
    def normalized(self) -> str:
        return f"{self.code}.{self.exchange}"

    @property
    def forms(self) -> tuple[str, ...]:
        """How news prints this code (`港交所(00388.HK)`, `(0388.HK)`, `贵州茅台(600519)`, `英特尔(INTC.O)`)."""
        if self.exchange == "HK":
            return tuple(dict.fromkeys((self.code.zfill(5), self.code)))
        if self.code.isdigit():
            return (self.code,)
        # A bare symbol of one or two letters (C, MS, LI) is too often something else to be matched alone.
        bare = (self.code,) if len(self.code) >= 3 else ()
        return (*bare, *(f"{self.code}.{suffix}" for suffix in ("O", "OQ", "N", "A")))


def _a_exchange(code: str) -> str | None:
    if code[0] in "69":
        return "SH"
    if code[0] in "023":
        return "SZ"
    if code[0] in "48":
        return "BJ"
    return None


def _ticker(market: str, match: re.Match[str]) -> Ticker | None:
    code = match.group("code")
    if market == "HK":
        digits = code.lstrip("0")
        return Ticker(digits.zfill(4), "HK") if digits else None
    if market == "US":
        return Ticker(code.upper(), match.group("exchange").upper())
    given = match.groupdict().get("exchange")
    exchange = _A_EXCHANGES[given.upper()] if given else _a_exchange(code)
    return Ticker(code, exchange) if exchange else None


def normalize_ticker(text: str) -> str | None:
    """The normal form of a code written alone (`00388` -> `0388.HK`), or None if it is not one."""
    found = find_tickers(text.strip())
    if len(found) == 1 and found[0][:2] == (0, len(text.strip())):
        return found[0][2].normalized
    return None


def find_tickers(text: str) -> list[tuple[int, int, Ticker]]:
    """Every code in `text`: (start, end, ticker), left to right, never overlapping."""
    found: list[tuple[int, int, Ticker]] = []
    taken: list[tuple[int, int]] = []
    for market, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            ticker = _ticker(market, match)
            if ticker is not None:
                found.append((start, end, ticker))
                taken.append((start, end))
    return sorted(found)
