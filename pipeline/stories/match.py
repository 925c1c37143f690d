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
    """Jaccard similarity estimated from two bottom-k sketches: the share of the k smallest hashes of the
    union that both sketches hold (exact when both sets have fewer than k shingles)."""
    if not a or not b:
        return 0.0
    in_a, in_b = set(a), set(b)
    union = sorted(in_a | in_b)[:BOTTOM_K]
    both = sum(1 for value in union if value in in_a and value in in_b)
    return both / len(union)


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
