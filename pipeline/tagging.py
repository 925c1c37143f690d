"""Tags and keywords of an article.

Tags are editorial: the source's default tags, then the item's own tags and categories, cleaned and
de-duplicated case-insensitively (the first spelling wins).

Keywords are extracted:
- Chinese: rjieba (the Rust port of jieba) segments the text; candidate words have two or more
  characters, contain a letter, are not stopwords and do not start with a digit when they contain
  Han (`5月`, `8个`). Frequent candidates that nearly always occur together (`跨境`+`电商`) are
  merged into one phrase (`跨境电商`), because jieba's dictionary splits many current compounds;
  a phrase's IDF is the higher of its words' (unless the table knows the phrase).
  Words are ranked by TF-IDF with jieba's bundled IDF table (words it does not know get the
  table's median IDF, as jieba does).
- Other languages: word frequency over lowercase word tokens minus an English stopword list.
Only the start of the text is read (title first; see the window constants).
"""

from __future__ import annotations

import heapq
import importlib.util
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import islice, takewhile
from pathlib import Path

import rjieba

from pipeline.normalize.stopwords import CHINESE, ENGLISH
from pipeline.normalize.text import clean_inline

KEYWORD_LIMIT = 10
KEYWORD_SPARE = 5  # extra candidates ranked, so dropping fragments still leaves `limit` keywords
# Keywords come from the title and the start of the body: news states its subject up front
# (inverted pyramid), and the cost per article must not grow with its length. Segmentation is the
# most expensive step of the normalizer (about half its time), so the Chinese window is tighter:
# 800 Han characters carry about as much text as 500 English words.
CHINESE_WINDOW_CHARS = 800
WORD_WINDOW_CHARS = 6000
PHRASE_MIN_COUNT = 3
PHRASE_MIN_SHARE = 0.6  # the pair must account for this share of the rarer word's occurrences
PHRASE_MAX_CHARS = 8
PHRASE_CANDIDATES = 6  # only the most frequent candidate words are tried as parts of phrases

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
_WORD = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W_])?")


def merge_tags(*groups: Iterable[str]) -> list[str]:
    """Tags of all groups in order, cleaned, without case-insensitive duplicates (first spelling kept)."""
    seen: set[str] = set()
    merged: list[str] = []
    for group in groups:
        for tag in group:
            clean = clean_inline(tag.strip().lstrip("#"))
            key = clean.casefold()
            if clean and key not in seen:
                seen.add(key)
                merged.append(clean)
    return merged


@cache
def idf_table() -> tuple[dict[str, float], float, float]:
    """jieba's IDF table (word -> idf), its median and its maximum, read once from the jieba package."""
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
    return table, statistics.median(table.values()), max(table.values())


@lru_cache(maxsize=1 << 16)
def _is_candidate(word: str) -> bool:
    """Can this token be a keyword? (Pure; cached because the same words recur in every article.)"""
    if len(word) < 2 or word in CHINESE or not _LETTER.search(word):
        return False
    if _HAN.search(word):
        return not word[0].isdigit()
    return word.lower() not in ENGLISH and not word[0].isdigit()


def _phrases(text: str, frequent: dict[str, int]) -> list[tuple[str, str, int]]:
    """(first word, second word, count) of frequent words that nearly always occur together.

    `frequent` (word -> count, most frequent first) is updated in place: the words of a merged pair
    lose its occurrences. Only the `PHRASE_CANDIDATES` most frequent words are paired, and a pair is
    counted as a substring of the text (C-level `str.count`): a Python pass over every adjacent token
    pair would cost more than the segmentation itself.
    """
    heads = list(islice(frequent, PHRASE_CANDIDATES))
    pairs: list[tuple[int, str, str]] = []
    for a in heads:
        for b in heads:
            if a != b and len(a) + len(b) <= PHRASE_MAX_CHARS:
                n = text.count(a + b)
                if n >= PHRASE_MIN_COUNT:
                    pairs.append((n, a, b))
    original = dict(frequent)
    phrases: list[tuple[str, str, int]] = []
    for n, a, b in sorted(pairs, reverse=True):
        if n < PHRASE_MIN_SHARE * min(original[a], original[b]) or frequent[a] < n or frequent[b] < n:
            continue
        frequent[a] -= n
        frequent[b] -= n
        phrases.append((a, b, n))
    return phrases


def chinese_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    tokens: list[str] = rjieba.cut(text)
    ranked = Counter(tokens).most_common()
    frequent = dict(
        item for item in takewhile(lambda item: item[1] >= PHRASE_MIN_COUNT, ranked) if _is_candidate(item[0])
    )
    phrases = _phrases(text, frequent)
    table, median, highest = idf_table()
    merged: dict[str, tuple[int, float]] = {}
    for a, b, n in phrases:
        seen = merged.get(a + b, (0, 0.0))[0]
        merged[a + b] = (seen + n, table.get(a + b) or max(table.get(a, median), table.get(b, median)))
    best: list[tuple[float, str]] = []
    pool = limit + KEYWORD_SPARE
    # Words in falling count order: stop once even the highest IDF cannot reach the top of the pool.
    for word, total in ranked:
        if len(best) == pool and total * highest <= best[0][0]:
            break
        n = frequent.get(word, total)
        if word in merged:
            n += merged.pop(word)[0]
        if n > 0 and _is_candidate(word):
            _offer(best, pool, n * table.get(word, median), word)
    for phrase, (n, idf) in merged.items():
        _offer(best, pool, n * idf, phrase)
    ordered = [word for _, word in sorted(best, key=lambda item: (-item[0], item[1]))]
    return _without_fragments(ordered)[:limit]


def _without_fragments(words: list[str]) -> list[str]:
    """Drop words that are part of another candidate (创板 beside 科创板, 出口 beside 进出口).

    The segmenter splits compounds its dictionary lacks, so a fragment often ranks beside the whole.
    """
    return [w for w in words if not any(w != other and w in other for other in words)]


def _offer(best: list[tuple[float, str]], limit: int, score: float, word: str) -> None:
    """Keep the `limit` best (score, word) pairs in a min-heap."""
    if len(best) < limit:
        heapq.heappush(best, (score, word))
    elif (score, word) > best[0]:
        heapq.heapreplace(best, (score, word))


def word_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    counts = Counter(w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in ENGLISH)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:limit]]


def keywords(text: str, language: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    """Top keywords of a text (title, then body) in `language`, from the start of the text."""
    if language == "zh":
        return chinese_keywords(text[:CHINESE_WINDOW_CHARS], limit)
    return word_keywords(text[:WORD_WINDOW_CHARS], limit)
