"""Tags and keywords of an article.

Tags are editorial: the source's default tags, then the item's own tags and categories, cleaned and
de-duplicated case-insensitively (the first spelling wins).

Keywords are extracted:
- Chinese: rjieba (the Rust port of jieba) segments the text; candidate words have two or more
  characters, contain a letter, are not stopwords and do not start with a digit when they contain
  Han (`5月`, `8个`). Adjacent candidates that nearly always occur together (`跨境`+`电商`) are
  merged into one phrase (`跨境电商`), because jieba's dictionary splits many current compounds.
  Words are ranked by TF-IDF with jieba's bundled IDF table (words it does not know get the
  table's median IDF, as jieba does).
- Other languages: word frequency over lowercase word tokens minus an English stopword list.
"""

from __future__ import annotations

import heapq
import importlib.util
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

import rjieba

from pipeline.normalize.stopwords import CHINESE, ENGLISH
from pipeline.normalize.text import clean_inline

KEYWORD_LIMIT = 10
PHRASE_MIN_COUNT = 3
PHRASE_MIN_SHARE = 0.6  # the pair must account for this share of the rarer word's occurrences
PHRASE_MAX_CHARS = 8

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")


def merge_tags(*groups: Iterable[str]) -> list[str]:
    """Tags of all groups in order, cleaned, without case-insensitive duplicates (first spelling kept)."""
    seen: set[str] = set()
    merged: list[str] = []
    for group in groups:
        for tag in group:
            clean = clean_inline(tag).strip("#")
            key = clean.casefold()
            if clean and key not in seen:
                seen.add(key)
                merged.append(clean)
    return merged


@cache
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table (word -> idf) and its median, read once from the installed jieba package."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the jieba package (which ships the IDF table) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"
    table: dict[str, float] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, value = line.rstrip("\n").partition(" ")
            if word and value:
                table[word] = float(value)
    return table, statistics.median(table.values())


@lru_cache(maxsize=1 << 16)
def _is_candidate(word: str) -> bool:
    if len(word) < 2 or word in CHINESE or not _LETTER.search(word):
        return False
    if _HAN.search(word):
        return not word[0].isdigit()
    return word.lower() not in ENGLISH and not word[0].isdigit()


def _merge_phrases(tokens: list[str], counts: dict[str, int]) -> None:
    """Fold frequent adjacent candidate pairs into phrases, in place on `counts` (candidates only)."""
    frequent = {w for w, n in counts.items() if n >= PHRASE_MIN_COUNT}
    if len(frequent) < 2:
        return
    original = dict(counts)
    pairs = [
        (n, a, b)
        for (a, b), n in Counter(pairwise(tokens)).items()
        if n >= PHRASE_MIN_COUNT and a in frequent and b in frequent and len(a) + len(b) <= PHRASE_MAX_CHARS
    ]
    for n, a, b in sorted(pairs, reverse=True):
        if n < PHRASE_MIN_SHARE * min(original[a], original[b]) or counts[a] < n or counts[b] < n:
            continue
        counts[a] -= n
        counts[b] -= n
        counts[a + b] = counts.get(a + b, 0) + n


def chinese_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    tokens: list[str] = rjieba.cut(text)
    counts = {w: n for w, n in Counter(tokens).items() if len(w) > 1 and _is_candidate(w)}
    _merge_phrases(tokens, counts)
    table, median = idf_table()
    best = heapq.nlargest(limit, ((n * table.get(w, median), w) for w, n in counts.items() if n > 0))
    return [word for _, word in best]


def word_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    counts = Counter(w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in ENGLISH)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:limit]]


def keywords(text: str, language: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    """Top keywords of a text (title and body) in `language`."""
    if not text:
        return []
    if language == "zh":
        return chinese_keywords(text, limit)
    return word_keywords(text, limit)
