"""How close an extracted text is to the expected one: precision, recall and F1 of token-bigram shingles.

Tokens: every CJK, Thai or other unspaced-script character is a token of its own (Chinese, Japanese and
Thai write no spaces between words, so characters are the only units an extractor cannot split wrongly);
every run of other letters and digits is a token, lowercased. Punctuation and whitespace are not tokens,
so a different paragraph split or a full-width comma changes nothing. Shingles are pairs of consecutive
tokens (character bigrams in Chinese, word bigrams in English), counted as a multiset: a paragraph
extracted twice counts twice, and order matters within a pair. Precision is the share of the extracted
shingles found in the expected text, recall the share of the expected shingles found in the extraction,
F1 their harmonic mean. An empty extraction has precision and recall 0.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass

_TOKEN = re.compile(
    r"[\u0e00-\u0e7f\u1000-\u109f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+"
)


@dataclass(frozen=True)
class Match:
    precision: float
    recall: float

    @property
    def f1(self) -> float:
        return harmonic(self.precision, self.recall)


def harmonic(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def tokens(text: str) -> list[str]:
    return [token.lower() for token in _TOKEN.findall(text)]


def shingles(text: str) -> Counter[tuple[str, str]]:
    words = tokens(text)
    if len(words) == 1:
        return Counter({(words[0], ""): 1})
    return Counter(itertools.pairwise(words))


def match(extracted: str, expected: str) -> Match:
    got, want = shingles(extracted), shingles(expected)
    found, wanted = sum(got.values()), sum(want.values())
    if not found or not wanted:
        return Match(0.0, 0.0)
    common = sum((got & want).values())
    return Match(common / found, common / wanted)
