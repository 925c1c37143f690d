"""Stock codes: one normal form, read from what people type and from what news pages print.

The normal form is `<code>.<market>`:
- mainland A-shares and funds: six digits and the exchange, `600519.SH` (Shanghai), `000001.SZ`
  (Shenzhen), `430047.BJ` (Beijing);
- Hong Kong: the number with at least four digits, `0388.HK` (`00388`, `388.HK` and `HK00388` are the same);
- US: the symbol, `NIO.US` (`NIO.N`, `AAPL.O`, `NASDAQ:AAPL` are read as US listings).

`normalize_ticker` reads one code typed in any of the common forms (the search side reads queries
with it); a bare six-digit code gets its exchange from its prefix, and an explicit exchange is kept
as written (`000001.SH` is the Shanghai index, not Ping An Bank). A bare number that could be a
year or an amount (`2021`, `388`) is not a ticker.

`tickers_in_text` finds only codes the text marks as codes: a six-digit code in brackets right after
a name (`贵州茅台(600519)`, `（300209，SZ）`), a code with its market (`600968.SH`, `(00388.HK)`), a
five-digit Hong Kong code with its leading zero in brackets (`信义能源(03868)`), a US symbol in
brackets with its market (`(NIO.N)`, `（纳斯达克：AAPL）`). `tickers_in_html` reads the quote links
and attributes that Chinese finance sites put around company names (Eastmoney's `data-code="1,600160"`
and `quote.eastmoney.com/unify/r/106.NIO`, stcn's `code="601211"` and `stockcode=SS601211`, Sina's
`realstock/company/sh600519`). Board and index links (Eastmoney market 90, 100) are not tickers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Six-digit mainland codes by their first two digits: main boards, STAR/ChiNext, B shares and funds.
_A_SHARE_MARKETS = {
    **dict.fromkeys(("60", "68", "90", "50", "51", "52", "56", "58"), "SH"),
    **dict.fromkeys(("00", "30", "20", "15", "16", "18"), "SZ"),
    **dict.fromkeys(("43", "83", "87", "92"), "BJ"),
}
_MARKET_ALIASES = {"SH": "SH", "SS": "SH", "SZ": "SZ", "BJ": "BJ", "HK": "HK", "US": "US"}
_US_SUFFIXES = frozenset({"US", "N", "O", "OQ", "A", "AM", "NQ"})
# Eastmoney's market numbers (the `1` of `1.600160`): 0 Shenzhen (and Beijing), 1 Shanghai, 116 Hong
# Kong, 105/106/107 NASDAQ/NYSE/AMEX. Others (90 boards, 100 world indices, 8 futures ...) are not stocks.
_EASTMONEY_MARKETS = {"0": None, "1": "SH", "116": "HK", "105": "US", "106": "US", "107": "US", "153": "US"}

_TYPED = re.compile(
    r"""
    (?P<prefix>SH|SS|SZ|BJ|HK|US)? [\s.:：]*
    (?P<code>\d{1,6}|[A-Z]{1,5})
    (?: \s* [.．,，]? \s* (?P<suffix>SH|SS|SZ|BJ|HK|US|N|O|OQ|A|AM|NQ) )?
    """,
    re.VERBOSE,
)
_EXCHANGE_PREFIX = re.compile(r"(?:NASDAQ|NYSE|AMEX|NYSEAMERICAN|纳斯达克|纽交所|美股)\s*[:：]?\s*", re.IGNORECASE)

# Where a bare code in brackets may follow: the end of a name (`贵州茅台(600519)`, `ETF（516380）`).
_NAME_END = re.compile(r"[\u3400-\u9fff\uf900-\ufaffA-Za-z）)]")
# Tried at each bracket of a text (found with `str.find`, at C speed): a regex scan of the whole
# text from a character class, or a leading lookbehind, costs ten times more on a long CJK text.
_BRACKETED = re.compile(
    r"""
    [(（] \s*
    (?:
        (?P<listed>\d{6}) \s* [,，] \s* (?P<listed_market>SH|SZ|BJ|sh|sz|bj)   # （300209，SZ）
      | (?P<bare>\d{6}|0\d{4})                                                 # 贵州茅台(600519), (03868)
      | (?P<us>[A-Z]{1,5}) \s* [.．] \s* (?P<us_market>US|N|O|OQ|A)            # (NIO.N)
      | (?i:NASDAQ|NYSE|AMEX|纳斯达克|纽交所) \s* [:：] \s* (?P<listing>[A-Z]{1,5})  # （纳斯达克：AAPL）
    )
    \s* [)）]
    """,
    re.VERBOSE,
)
_SUFFIX_MARKETS = {"SH": "SH", "SS": "SH", "SZ": "SZ", "BJ": "BJ", "HK": "HK"}
# A literal first character: re looks for it at C speed (a leading class or lookbehind is ten times slower).
_MARKET_SUFFIX = re.compile(r"\.([Ss][HhZzSs]|[Hh][Kk]|[Bb][Jj])(?![A-Za-z0-9])")
_MAX_CODE = 6

_HTML_PATTERNS = (
    # Eastmoney: data-code="1,600160", data-code="106,NIO", quote.eastmoney.com/unify/r/1.600160
    re.compile(r"""data-code=["'](?P<market>\d{1,3}),(?P<code>[A-Za-z0-9]{1,8})["']"""),
    re.compile(r"quote\.eastmoney\.com/unify/r/(?P<market>\d{1,3})\.(?P<code>[A-Za-z0-9]{1,8})"),
    # stcn trsHotWords links: code="601211", stockcode=SS601211
    re.compile(r"""\scode=["'](?P<code>\d{6})["']"""),
    re.compile(r"stockcode=(?P<prefix>SS|SZ|SH|BJ)(?P<code>\d{6})", re.IGNORECASE),
    # Sina and Eastmoney quote pages: realstock/company/sh600519, quote.eastmoney.com/sz000001.html
    re.compile(r"(?:realstock/company/|quote\.eastmoney\.com/)(?P<prefix>sh|sz|bj)(?P<code>\d{6})", re.IGNORECASE),
    re.compile(r"(?:hkstock/quotes/|quote\.eastmoney\.com/hk/)(?P<hk>\d{4,5})\b"),
)
_HTML_HINTS = ("code", "quote", "stock")


def _a_share(code: str) -> str | None:
    market = _A_SHARE_MARKETS.get(code[:2])
    return f"{code}.{market}" if market else None


def _hong_kong(code: str) -> str | None:
    number = int(code)
    return f"{number:04d}.HK" if 0 < number < 100_000 else None


def _with_market(code: str, market: str) -> str | None:
    if market == "HK":
        return _hong_kong(code) if code.isdigit() and len(code) <= 5 else None
    if market == "US":
        return f"{code}.US" if code.isalpha() or "." in code else None
    return f"{code}.{market}" if code.isdigit() and len(code) == 6 else None


def normalize_ticker(text: str) -> str | None:
    """The normal form of one stock code typed in any common form, or None when it is not one.

    `600519`, `600519.SH`, `sh600519`, `600519.SS` -> `600519.SH`; `00388`, `0388.HK`, `00388.HK`,
    `HK00388` -> `0388.HK`; `NIO.N`, `NIO.US`, `NYSE:NIO` -> `NIO.US`; `2021`, `388`, `hello` -> None.
    """
    value = _EXCHANGE_PREFIX.sub("US", text.strip().upper(), count=1) if not text.isdigit() else text.strip()
    match = _TYPED.fullmatch(value)
    if match is None:
        return None
    code, prefix, suffix = match["code"], match["prefix"], match["suffix"]
    if prefix and suffix:
        return None
    marker = prefix or suffix
    if marker is None:
        if not code.isdigit():
            return None  # a bare symbol (`NIO`) could be any word
        if len(code) == 6:
            return _a_share(code)
        if code.startswith("0") and len(code) in (4, 5):
            return _hong_kong(code)
        return None
    market = "US" if marker in _US_SUFFIXES else _MARKET_ALIASES[marker]
    return _with_market(code, market)


def _ordered(found: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(code for code in found if code))


def _from_bracket(match: re.Match[str], text: str) -> str | None:
    if match["listed"]:
        return _with_market(match["listed"], match["listed_market"].upper())
    if match["bare"]:
        start = match.start()
        if start == 0 or not _NAME_END.match(text, start - 1):
            return None  # a number in brackets that follows no name: an amount, a note
        code = match["bare"]
        return _a_share(code) if len(code) == 6 else _hong_kong(code)
    return f"{match['us'] or match['listing']}.US"


def _digits_before(text: str, end: int) -> int:
    """Where the run of ASCII digits that ends at `end` starts."""
    start = end
    while start > 0 and "0" <= text[start - 1] <= "9" and end - start <= _MAX_CODE:
        start -= 1
    return start


def _with_markets(text: str) -> Iterator[tuple[int, str | None]]:
    """Codes written with their market (`600968.SH`, `(00388.HK)`): the suffix, then the digits before it."""
    if "．" in text:
        text = text.replace("．", ".")  # same length: positions stay those of the caller's text
    for match in _MARKET_SUFFIX.finditer(text):
        at = match.start()
        start = _digits_before(text, at)
        code = text[start:at]
        if code and not (start and text[start - 1] in ".0123456789"):
            market = _SUFFIX_MARKETS[match.group(1).upper()]
            yield start, _with_market(code, market) if len(code) == _MAX_CODE or market == "HK" else None


def _bracketed(text: str) -> Iterator[re.Match[str]]:
    """Matches of `_BRACKETED` at each bracket (found by `str.find`, much faster than a regex scan)."""
    for opener in ("(", "（"):
        start = text.find(opener)
        while start != -1:
            match = _BRACKETED.match(text, start)
            if match:
                yield match
            start = text.find(opener, start + 1)


def tickers_in_text(text: str) -> list[str]:
    """Normalized codes the text marks as stock codes, in order of first appearance."""
    found = [(m.start(), _from_bracket(m, text)) for m in _bracketed(text)]
    found.extend(_with_markets(text))
    return _ordered(code for _, code in sorted(found, key=lambda pair: pair[0]))


def _from_html_match(match: re.Match[str]) -> str | None:
    groups = match.groupdict()
    if groups.get("hk"):
        return _hong_kong(groups["hk"])
    code = groups["code"]
    if groups.get("market") is not None:
        market = _EASTMONEY_MARKETS.get(groups["market"], "")
        if market == "":
            return None
        if market is None:  # Eastmoney's 0 holds Shenzhen and Beijing codes
            return _a_share(code) if code.isdigit() and len(code) == 6 else None
        return _with_market(code.upper(), market)
    if groups.get("prefix"):
        return _with_market(code, _MARKET_ALIASES[groups["prefix"].upper()])
    return _a_share(code)


def tickers_in_html(html: str) -> list[str]:
    """Normalized codes of the quote links and stock attributes of an HTML body, in order of appearance."""
    if not any(hint in html for hint in _HTML_HINTS):
        return []
    found: list[tuple[int, str | None]] = []
    for pattern in _HTML_PATTERNS:
        found.extend((m.start(), _from_html_match(m)) for m in pattern.finditer(html))
    return _ordered(code for _, code in sorted(found, key=lambda pair: pair[0]))
