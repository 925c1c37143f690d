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


class Reason(StrEnum):
    TEXT = "text"
    CONTAINED = "contained"
    HEADLINE = "headline"


def jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Jaccard similarity estimated from two bottom-k sketches (ascending).

    Below m, the smaller of the two sketches' largest values, each sketch holds *every* hash of its set, so
    the exact Jaccard similarity of the two sets restricted to hashes below m is computed, over at least k
    hashes of the union: a uniform sample of the shingles (exact when both sets have fewer than k).
    """
    if not a or not b:
        return 0.0
    full_a, full_b = len(a) >= BOTTOM_K, len(b) >= BOTTOM_K  # a sketch that is not full is its whole set
    if full_a or full_b:
        limit = min(a[-1], b[-1]) if full_a and full_b else (a[-1] if full_a else b[-1])
        a, b = a[: bisect_right(a, limit)], b[: bisect_right(b, limit)]
    head_a, head_b = a, b
    both = len(set(head_a).intersection(head_b))
    return both / (len(head_a) + len(head_b) - both)


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


def same_story(a: Fingerprint, b: Fingerprint, window: timedelta) -> Reason | None:
    """Why `a` and `b` are one story, or None when they are not (see the module docstring)."""
    apart = abs(a.at - b.at)
    if apart > window:
        return None
    similarity = jaccard(a.bottom, b.bottom)
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
