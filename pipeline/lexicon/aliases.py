"""The maintained list of finance aliases (`finance_aliases.txt`) and where a query names one of them.

A query's mentions are found left to right, longest name first:
- stock codes in any form (`tickers.find_tickers`); a code listed in a group stands for the group;
- names of the list. Latin names match whole words (acronyms such as `FDA`, `WHO` only in capitals;
  other names in any case); Chinese names only where the query's segmentation has a word boundary at
  both ends, so `港股` is not found inside `港股通`, nor `央行` (the PBoC) inside `印度央行`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

from pipeline.lexicon.tickers import Ticker, find_tickers, normalize_ticker

ALIASES_FILE = Path(__file__).with_name("finance_aliases.txt")
_ACRONYM = re.compile(r"[A-Z0-9&.\-]+")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")


class LexiconError(ValueError):
    """The alias list is malformed (names the line)."""


@dataclass(frozen=True)
class Group:
    """Names of one thing; the first is its usual full name."""

    names: tuple[str, ...]
    tickers: tuple[Ticker, ...] = ()

    @property
    def variants(self) -> tuple[str, ...]:
        """Every way the thing is written in news: its names, then the printed forms of its codes."""
        return tuple(dict.fromkeys([*self.names, *(form for ticker in self.tickers for form in ticker.forms)]))


@dataclass(frozen=True)
class Mention:
    """A span of the query that names something: its variants are searched in its place. A `literal`
    mention (quoted by the editor) is searched exactly as written, without other names."""

    start: int
    end: int
    text: str
    group: Group | None = None
    ticker: Ticker | None = None
    literal: bool = False

    @property
    def variants(self) -> tuple[str, ...]:
        found = [self.text]
        if self.ticker is not None:
            found += self.ticker.forms
        if self.group is not None:
            found += self.group.variants
        return tuple(dict.fromkeys(found))

    @property
    def tickers(self) -> tuple[str, ...]:
        """Normal forms of the codes this mention stands for."""
        codes = [self.ticker] if self.ticker else []
        codes += self.group.tickers if self.group else ()
        return tuple(dict.fromkeys(code.normalized for code in codes))


def _key(name: str) -> str:
    """Acronyms match as written (`WHO` is not `who`); other names in any case."""
    return name if _ACRONYM.fullmatch(name) and any(c.isalpha() for c in name) else name.casefold()


@dataclass(frozen=True)
class Lexicon:
    groups: tuple[Group, ...]

    @cached_property
    def _index(self) -> tuple[dict[str, Group], dict[str, Group], tuple[int, ...]]:
        """Groups by name key and by normal code, and the name lengths, longest first (built once)."""
        names: dict[str, Group] = {}
        codes: dict[str, Group] = {}
        for group in self.groups:
            for name in group.names:
                names[_key(name)] = group
            for ticker in group.tickers:
                codes[ticker.normalized] = group
                if not ticker.code.isdigit() and ticker.code in ticker.forms:  # INTC for INTC.US, not MS for MS.US
                    names.setdefault(ticker.code, group)
        return names, codes, tuple(sorted({len(name) for name in names}, reverse=True))

    @property
    def _names(self) -> dict[str, Group]:
        return self._index[0]

    @property
    def _codes(self) -> dict[str, Group]:
        return self._index[1]

    def group_of(self, name: str) -> Group | None:
        """The group a name (or a stock code in any form) belongs to."""
        code = normalize_ticker(name)
        if code is not None:
            return self._codes.get(code)
        return self._names.get(_key(name)) or self._names.get(name.casefold())

    def mentions(self, query: str, boundaries: Collection[int]) -> list[Mention]:
        """What the query names: stock codes and names of the list, left to right, never overlapping.

        `boundaries` are the offsets where the query's words start or end (its segmentation); a
        Chinese name is found only between two of them.
        """
        found = [
            Mention(start, end, query[start:end], self._codes.get(ticker.normalized), ticker)
            for start, end, ticker in find_tickers(query)
        ]
        taken = {i for mention in found for i in range(mention.start, mention.end)}
        found += self._names_in(query, boundaries, taken)
        return sorted(found, key=lambda mention: mention.start)

    def _names_in(self, query: str, boundaries: Collection[int], taken: set[int]) -> Iterator[Mention]:
        names, _, lengths = self._index
        i = 0
        while i < len(query):
            for length in lengths:
                end = i + length
                if end > len(query):
                    continue
                text = query[i:end]
                group = names.get(_key(text))
                if group is None or any(j in taken for j in range(i, end)):
                    continue
                if _bounded(query, i, end, boundaries):
                    yield Mention(i, end, text, group)
                    i = end
                    break
            else:
                i += 1


def _bounded(query: str, start: int, end: int, boundaries: Collection[int]) -> bool:
    """Does the span stand alone? Latin edges: no letter or digit next to them; other edges: a word boundary."""
    for edge, outside in ((start, start - 1), (end, end)):
        inside = query[edge] if edge == start else query[edge - 1]
        if _ASCII_ALNUM.match(inside):
            if 0 <= outside < len(query) and _ASCII_ALNUM.match(query[outside]):
                return False
        elif edge not in boundaries and 0 < edge < len(query):
            return False
    return True


def parse_lexicon(text: str, origin: str = "alias list") -> Lexicon:
    """Groups of a list; raises LexiconError naming the line of a malformed or repeated name."""
    groups: list[Group] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        entries = [entry.strip() for entry in content.split("|")]
        if len(entries) < 2 or not all(entries):
            raise LexiconError(f"{origin}, line {number}: a group needs two or more names separated by '|'")
        names: list[str] = []
        tickers: list[Ticker] = []
        for entry in entries:
            code = normalize_ticker(entry)
            if code is not None:
                if code != entry:
                    raise LexiconError(f"{origin}, line {number}: write the code {entry!r} as {code!r}")
                (found,) = (ticker for _, _, ticker in find_tickers(entry))
                tickers.append(found)
                key = code
            else:
                names.append(entry)
                key = _key(entry)
            if key in seen:
                raise LexiconError(f"{origin}, line {number}: {entry!r} is already in the group of line {seen[key]}")
            seen[key] = number
        if not names:
            raise LexiconError(f"{origin}, line {number}: a group needs a name, not only codes")
        groups.append(Group(tuple(names), tuple(tickers)))
    return Lexicon(tuple(groups))


@cache
def finance_lexicon() -> Lexicon:
    """The bundled list, read once."""
    return parse_lexicon(ALIASES_FILE.read_text(encoding="utf-8"), origin=ALIASES_FILE.name)
