"""Whether two fingerprints are one story: the verification of LSH candidates. Pure.

Two articles within the window (`Settings.story_window_days`, 7 days by default, measured on their
publication times) are one story when one of these holds:

- **near-duplicate text**: the estimated Jaccard similarity of their shingle sets is at least
  `TEXT_SIMILARITY` (a reprint, a reformatted or lightly edited copy);
- **one text holds the other**: at least `CONTAINMENT` of the smaller shingle set is in the larger one,
  and the smaller has at least `CONTAINMENT_MIN_SHINGLES` shingles (a flash and its longer edition);
- **same headline, same figures**: within `TITLE_WINDOW` of each other, their titles share at least
  `TITLE_SIMILARITY` of their character bigrams and carry exactly the same figures (at least one): the
  same broker note or announcement written twice (里昂 cutting 港交所's target to 574港元, once as a
  one-line flash and once with the note's reasoning). A daily headline that repeats with new figures
  (北向资金净流入超40亿 → 超50亿) or on another day does not match this way.

Titles whose figures contradict (each has a number the other lacks) are different reports unless the texts
are nearly identical (`FIGURES_OVERRIDE`): one-line flashes of a running figure (北向资金净流入超40亿元 /
超50亿元) share most of their few shingles, and without this would chain every update into one story, which
one depends on the order they arrive in.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import timedelta
from enum import StrEnum

from pipeline.stories.sketch import BOTTOM_K, Fingerprint

TEXT_SIMILARITY = 0.5
CONTAINMENT = 0.8
CONTAINMENT_MIN_SHINGLES = 20
TITLE_SIMILARITY = 0.5
TITLE_WINDOW = timedelta(hours=12)
FIGURES_OVERRIDE = 0.9  # text this similar is one story even when the titles' figures contradict


class Reason(StrEnum):
    TEXT = "text"
    CONTAINED = "contained"
    HEADLINE = "headline"


def jaccard(a: Fingerprint, b: Fingerprint) -> float:
    """Jaccard similarity of two texts estimated from their bottom-k sketches (ascending).

    Below m, the smaller of the two sketches' largest values, each sketch holds *every* hash of its set, so
    this is the exact Jaccard similarity of the two sets restricted to hashes below m, over at least k hashes
    of the union: a uniform sample of the shingles (exact when both sets have fewer than k). A hash in both
    sketches is below m, so the intersection needs no cut.
    """
    first, second = a.bottom, b.bottom
    if not first or not second:
        return 0.0
    both = len(a.bottom_set.intersection(b.bottom))  # one set (a's, kept), b's values looked up in it
    full_a, full_b = len(first) >= BOTTOM_K, len(second) >= BOTTOM_K  # a sketch not full is its whole set
    if full_a or full_b:
        limit = min(first[-1], second[-1]) if full_a and full_b else (first[-1] if full_a else second[-1])
        return both / (bisect_right(first, limit) + bisect_right(second, limit) - both)
    return both / (len(first) + len(second) - both)


def containment(a: Fingerprint, b: Fingerprint, similarity: float) -> float:
    """Estimated share of the smaller shingle set inside the larger, from the Jaccard similarity and the sizes:
    |A ∩ B| = J (|A| + |B|) / (1 + J)."""
    smaller = min(a.size, b.size)
    if smaller == 0:
        return 0.0
    return min(1.0, similarity * (a.size + b.size) / (1 + similarity) / smaller)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} if len(text) > 1 else {text}


def title_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character bigrams of two normalized titles."""
    if not a or not b:
        return 0.0
    first, second = _bigrams(a), _bigrams(b)
    return len(first & second) / len(first | second)


def figures_contradict(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Both titles have figures and neither's are all in the other's."""
    return bool(a and b) and not (set(a) <= set(b) or set(b) <= set(a))


def same_story(a: Fingerprint, b: Fingerprint, window: timedelta) -> Reason | None:
    """Why `a` and `b` are one story, or None when they are not (see the module docstring)."""
    apart = abs(a.at - b.at)
    if apart > window:
        return None
    similarity = jaccard(a, b)
    if similarity < FIGURES_OVERRIDE and figures_contradict(a.figures, b.figures):
        return None
    if similarity >= TEXT_SIMILARITY:
        return Reason.TEXT
    if min(a.size, b.size) >= CONTAINMENT_MIN_SHINGLES and containment(a, b, similarity) >= CONTAINMENT:
        return Reason.CONTAINED
    if (
        apart <= TITLE_WINDOW
        and a.figures
        and a.figures == b.figures
        and title_similarity(a.title, b.title) >= TITLE_SIMILARITY
    ):
        return Reason.HEADLINE
    return None
