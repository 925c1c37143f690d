"""A search query as the index sees it: what it names, to search every name of it.

`analyze_query` segments the query with the normalizer's own segmenter (for its word boundaries),
finds the stock codes and names of the alias list it mentions, and keeps the rest of the query as
free text. What the editor put in quotes ("港交所", “港交所”, 「港交所」) is taken literally: searched
as that exact phrase, without other names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.lexicon.aliases import Lexicon, Mention, finance_lexicon
from pipeline.tagging import segment

_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」')


@dataclass(frozen=True)
class AnalyzedQuery:
    text: str
    mentions: tuple[Mention, ...]
    rest: str  # the query without its mentions

    @property
    def literal(self) -> bool:
        """Did the editor quote part of the query (to be matched exactly)?"""
        return any(mention.literal for mention in self.mentions)

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for mention in self.mentions for code in mention.tickers))


def _quoted(text: str) -> list[Mention]:
    found: list[Mention] = []
    for match in _QUOTED.finditer(text):
        inner = next(group for group in match.groups() if group is not None).strip()
        if inner:
            found.append(Mention(match.start(), match.end(), inner, literal=True))
    return found


def analyze_query(text: str, lexicon: Lexicon | None = None) -> AnalyzedQuery:
    lexicon = lexicon or finance_lexicon()
    literal = _quoted(text)
    unquoted = text
    for mention in literal:  # blanked out, same length: the offsets of the rest stay true
        unquoted = unquoted[: mention.start] + " " * (mention.end - mention.start) + unquoted[mention.end :]
    boundaries = {0, len(text)}
    offset = 0
    for token in segment(unquoted):
        boundaries.add(offset)
        offset += len(token)
        boundaries.add(offset)
    found = lexicon.mentions(unquoted, boundaries)
    mentions = tuple(sorted([*literal, *found], key=lambda mention: mention.start))
    rest, last = [], 0
    for mention in mentions:
        rest.append(text[last : mention.start])
        last = mention.end
    rest.append(text[last:])
    return AnalyzedQuery(
        text=text,
        mentions=mentions,
        rest=" ".join(" ".join(rest).split()),
    )
