"""A search query as the index sees it: what it names, to search every name of it.

`analyze_query` segments the query with the normalizer's own segmenter (for its word boundaries),
finds the stock codes and names of the alias list it mentions, and keeps the rest of the query as
free text.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.lexicon.aliases import Lexicon, Mention, finance_lexicon
from pipeline.tagging import segment


@dataclass(frozen=True)
class AnalyzedQuery:
    text: str
    mentions: tuple[Mention, ...]
    rest: str  # the query without its mentions

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(code for mention in self.mentions for code in mention.tickers))


def analyze_query(text: str, lexicon: Lexicon | None = None) -> AnalyzedQuery:
    lexicon = lexicon or finance_lexicon()
    boundaries = {0, len(text)}
    offset = 0
    for token in segment(text):
        boundaries.add(offset)
        offset += len(token)
        boundaries.add(offset)
    mentions = tuple(lexicon.mentions(text, boundaries))
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
