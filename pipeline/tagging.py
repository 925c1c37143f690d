"""Tags and keywords of an article.

Tags are editorial: the source's default tags, then the item's own tags and categories, cleaned and
de-duplicated case-insensitively (the first spelling wins).

Keywords are extracted:
- Chinese: rjieba (the Rust port of jieba), taught the current terms of `normalize/zh_terms.txt`,
  segments the text; candidate words have two or more
  characters, contain a letter, are not stopwords and do not start with a digit when they contain
  Han (`5月`, `8个`). Frequent candidates that nearly always occur together (`跨境`+`电商`) are
  merged into one phrase (`跨境电商`), because jieba's dictionary splits many current compounds;
  a phrase's IDF is the higher of its words' (unless the table knows the phrase).
  Words are ranked by TF-IDF with jieba's bundled IDF table (words it does not know get the
  table's median IDF, as jieba does).
  Where the native extension `newsflow_native` (native/, Rust) is installed, it does this whole step,
  segmentation included, with exactly the same result (tests/unit/test_native_keywords.py);
  `python_chinese_keywords` stays the reference and the path without it.
- Japanese and Korean: frequency of the terms `normalize.cjk_terms` finds (kanji and katakana runs;
  Hangul words without their particle), a term left out when a longer one holding it is as frequent.
- Other languages: word frequency over lowercase word tokens minus an English stopword list.
Only the start of the text is read (title first; see the window constants).
"""

from __future__ import annotations

import importlib.util
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import islice
from operator import itemgetter
from pathlib import Path

try:
    import newsflow_native
except ImportError:  # not built here (no Rust toolchain, the Docker image): the Python step
    NATIVE_BUILT = False
else:
    NATIVE_BUILT = True

from pipeline.normalize import char_classes
from pipeline.normalize.cjk_terms import japanese_terms, korean_terms
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


@lru_cache(maxsize=1 << 12)
def _clean_tag(tag: str) -> str:
    """A tag cleaned for display (cached: a source's tags recur on every item it sends)."""
    return clean_inline(tag.strip().lstrip("#"))


def merge_tags(*groups: Iterable[str]) -> list[str]:
    """Tags of all groups in order, cleaned, without case-insensitive duplicates (first spelling kept)."""
    seen: set[str] = set()
    merged: list[str] = []
    for group in groups:
        for tag in group:
            clean = _clean_tag(tag)
            key = clean.casefold()
            if clean and key not in seen:
                seen.add(key)
                merged.append(clean)
    return merged


TERMS_FILE = Path(__file__).parent / "normalize" / "zh_terms.txt"


@cache
def terms() -> tuple[str, ...]:
    """The terms of `TERMS_FILE`, in order."""
    lines = TERMS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(term for line in lines if (term := line.split("#", 1)[0].strip()))


@cache
def segmenter_terms() -> tuple[str, ...]:
    """Teach the segmenter the terms of `TERMS_FILE` it does not know (once); the terms added."""
    import rjieba  # loaded where the Python step or query segmentation runs: its dictionary is 32 MB

    added: list[str] = []
    for term in terms():
        if not rjieba.has_word(term):
            rjieba.add_word(term, None, None)
            added.append(term)
    return tuple(added)


@cache
def idf_path() -> Path:
    """jieba's IDF table, in the jieba package (found without importing it)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the jieba package (which ships the IDF table) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "analyse" / "idf.txt"


@cache
def idf_table() -> tuple[dict[str, float], float]:
    """jieba's IDF table (word -> idf) and its median, read once (the Python step's; the native step reads the
    same file itself, so a process holds it once)."""
    table: dict[str, float] = {}
    with idf_path().open(encoding="utf-8") as handle:
        for line in handle:
            word, _, value = line.rstrip("\n").partition(" ")
            if word and value:
                table[word] = float(value)
    return table, statistics.median(table.values())


def _is_candidate(word: str) -> bool:
    """Can this token be a keyword? (Its answer is cached with the word's weight, in `_WEIGHTS`.)"""
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


_WEIGHTS: dict[str, float] = {}  # token -> _weight(token); a plain dict: its C-level .get beats lru_cache
_WEIGHTS_MAX = 1 << 17


def _weight(word: str) -> float:
    """The IDF of a candidate word, 0.0 for a token that cannot be a keyword."""
    if not _is_candidate(word):
        return 0.0
    table, median = idf_table()
    return table.get(word, median)


def segment(text: str) -> list[str]:
    """Chinese text cut into words by the segmenter (taught the terms of `TERMS_FILE`); spaces and
    punctuation come back as tokens of their own."""
    segmenter_terms()
    import rjieba

    tokens: list[str] = rjieba.cut(text)
    return tokens


def python_chinese_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    """The keyword step in Python (the reference; `chinese_keywords` where the native step is not installed)."""
    counts = Counter(segment(text))
    if len(_WEIGHTS) > _WEIGHTS_MAX:
        _WEIGHTS.clear()
    weights: dict[str, float] = {}
    scores: dict[str, float] = {}  # candidate -> occurrences x IDF
    frequent: list[tuple[str, int]] = []
    # One pass over the distinct tokens (this loop is most of the Python time of the keyword step).
    for word, n in counts.items():
        weight = _WEIGHTS.get(word)
        if weight is None:
            weight = _WEIGHTS[word] = _weight(word)
        if weight:
            weights[word] = weight
            scores[word] = n * weight
            if n >= PHRASE_MIN_COUNT:
                frequent.append((word, n))
    # Most frequent first; the stable sort keeps ties in order of first occurrence.
    by_count = dict(sorted(frequent, key=itemgetter(1), reverse=True))
    table, median = idf_table()
    for a, b, n in _phrases(text, by_count):
        # The words of a merged phrase keep only their other occurrences.
        scores[a] = by_count[a] * weights[a]
        scores[b] = by_count[b] * weights[b]
        phrase = a + b
        # A phrase the segmenter also produced as one token keeps that token's IDF; otherwise the table's
        # IDF of the phrase, else the higher of its words'.
        idf = weights.get(phrase) or table.get(phrase) or max(table.get(a, median), table.get(b, median))
        scores[phrase] = scores.get(phrase, 0.0) + n * idf
    # Highest score first; a stable sort leaves ties in order of first occurrence.
    ranked = sorted(scores.items(), key=itemgetter(1), reverse=True)
    ordered = [word for word, score in ranked[: limit + KEYWORD_SPARE] if score > 0]
    return _without_fragments(ordered)[:limit]


def _without_fragments(words: list[str]) -> list[str]:
    """Drop words that are part of another candidate (创板 beside 科创板, 出口 beside 进出口).

    The segmenter splits compounds its dictionary lacks, so a fragment often ranks beside the whole.
    Words are distinct and hold no NUL, so a word is part of another exactly when it occurs more than
    once in all of them joined by NULs.
    """
    joined = "\0".join(words)
    return [w for w in words if joined.count(w) == 1]


@cache
def native_step() -> newsflow_native.Keywords:
    """The native keyword step, given everything it must agree on with the Python step (once: about 0.3 s)."""
    if not NATIVE_BUILT:
        raise RuntimeError("the native keyword step (newsflow_native, built from native/) is not installed")
    return newsflow_native.Keywords(
        terms=list(terms()),
        idf_path=str(idf_path()),
        chinese=CHINESE,
        english=ENGLISH,
        letters=char_classes.pattern_ranges(_LETTER),
        digits=char_classes.digit_ranges(),
        ascii_lower=char_classes.ascii_lowercase_of_others(),
        phrase_min_count=PHRASE_MIN_COUNT,
        phrase_min_share=PHRASE_MIN_SHARE,
        phrase_max_chars=PHRASE_MAX_CHARS,
        phrase_candidates=PHRASE_CANDIDATES,
        spare=KEYWORD_SPARE,
    )


def native_chinese_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    """The keyword step of `python_chinese_keywords`, segmentation included, in Rust: the same list."""
    return native_step().chinese_keywords(text, limit)


# The step the pipeline uses, chosen once: the native one where it is installed.
KEYWORD_STEP = "native" if NATIVE_BUILT else "python"
chinese_keywords = native_chinese_keywords if NATIVE_BUILT else python_chinese_keywords


def word_keywords(text: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    counts = Counter(w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in ENGLISH)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:limit]]


def term_keywords(terms: Iterable[str], limit: int = KEYWORD_LIMIT) -> list[str]:
    """The most frequent terms (ties: the first to occur), without English stopwords.

    A term is left out when a longer term that contains it occurs at least as often (`上場` inside
    `上場企業` twice out of twice); a frequent short term inside a rare long one stays (`基準`).
    """
    counts = Counter(term for term in terms if term.lower() not in ENGLISH)
    ranked = sorted(counts.items(), key=itemgetter(1), reverse=True)[: limit + KEYWORD_SPARE]  # stable sort
    return [term for term, n in ranked if not any(term != other and term in other and m >= n for other, m in ranked)][
        :limit
    ]


def keywords(text: str, language: str, limit: int = KEYWORD_LIMIT) -> list[str]:
    """Top keywords of a text (title, then body) in `language`, from the start of the text."""
    if language == "zh":
        return chinese_keywords(text[:CHINESE_WINDOW_CHARS], limit)
    if language == "ja":
        return term_keywords(japanese_terms(text[:CHINESE_WINDOW_CHARS]), limit)
    if language == "ko":
        return term_keywords(korean_terms(text[:WORD_WINDOW_CHARS]), limit)
    return word_keywords(text[:WORD_WINDOW_CHARS], limit)
