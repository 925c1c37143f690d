"""Candidate terms of Japanese and Korean text, without a dictionary.

Neither language separates words the way the keyword counter for Western text expects, so:
- Japanese: content words are written in kanji or katakana, grammar (particles, inflections) in
  hiragana. A term is a run of two or more kanji (`東京証券取引所`, `上場`) or of katakana
  (`インフレ`), or a Latin word; hiragana ends a term and never starts one.
- Korean: words are separated by spaces, but a noun carries its particle (`한국은행은`,
  `기준금리를`). A term is a Hangul word with one trailing particle removed when two or more
  syllables remain; a word with a predicate ending (`밝혔다`, `동결했다고`; see `PREDICATE_ENDINGS`)
  is not a term.
Both are heuristics: good enough to rank the subjects of a news item, not a morphological analysis.
"""

from __future__ import annotations

import re

_JAPANESE_TERM = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]{2,}"  # kanji (with the iteration mark 々)
    r"|[\u30a1-\u30fa\u30fc]{2,}"  # katakana and the long-vowel mark
    r"|[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]"
)
_HANGUL_WORD = re.compile(r"[\uac00-\ud7a3]{2,}|[A-Za-z][A-Za-z0-9'’-]*[A-Za-z0-9]")

# Longest first: `에서는` before `에서` before `에`.
PARTICLES = tuple(
    sorted(
        (
            "에서는", "에게서", "으로는", "으로서", "으로써", "이라는", "에서", "에게", "으로", "까지", "부터",
            "처럼", "보다", "라는", "에는", "와는", "과는", "은", "는", "이", "가", "을", "를", "의", "에",
            "로", "와", "과", "도", "만",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
PREDICATE_ENDINGS = (
    "다", "다고", "다며", "다는", "했고", "하고", "하며", "했으며", "하는", "하기", "했던", "된", "되는", "됐다",
    "습니다", "니다", "세요", "지만", "는데", "면서",
)  # fmt: skip


def japanese_terms(text: str) -> list[str]:
    """Kanji runs, katakana runs and Latin words of a Japanese text, in order."""
    return _JAPANESE_TERM.findall(text)


def _korean_stem(word: str) -> str | None:
    if word.isascii():
        return word
    if word.endswith(PREDICATE_ENDINGS):
        return None
    for particle in PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


def korean_terms(text: str) -> list[str]:
    """Hangul words without their trailing particle, and Latin words, in order; predicates left out."""
    stems = (_korean_stem(word) for word in _HANGUL_WORD.findall(text))
    return [stem for stem in stems if stem]
