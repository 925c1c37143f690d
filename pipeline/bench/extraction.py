"""Our HTML-to-text step next to `trafilatura.extract`, on the same bodies: speed and agreement.

Ours: `html_paragraphs` -> `strip_trailer` -> `extract_attribution` (what `to_article` does to a body).
Theirs: `trafilatura.extract` with its defaults, on the body wrapped in `<html><body>`. Agreement is
measured on whitespace-collapsed text: the Jaccard index of character bigrams (meaningful for
Chinese, which has no spaces) and difflib's `SequenceMatcher.ratio`, each averaged over the bodies.
trafilatura is optional (`pip install -e '.[bench]'`): without it the comparison is reported as
unavailable and its figures are null.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.normalize.boilerplate import extract_attribution, strip_trailer
from pipeline.normalize.html_text import html_paragraphs

SAMPLE_BODIES = 1000
WARMUP_BODIES = 5


@dataclass
class Comparison:
    available: bool
    version: str | None = None
    bodies: int = 0
    ours_ms: float | None = None  # CPU per body
    theirs_ms: float | None = None
    empty: int = 0  # bodies trafilatura returned nothing for
    bigram_jaccard: float | None = None
    difflib_ratio: float | None = None
    note: str | None = None

    @property
    def speed_ratio(self) -> float | None:
        """How many times faster ours is (their CPU time / ours)."""
        if self.ours_ms and self.theirs_ms is not None:
            return self.theirs_ms / self.ours_ms
        return None


def ours(html: str) -> str:
    paragraphs, _ = extract_attribution(strip_trailer(html_paragraphs(html)))
    return "\n".join(paragraphs)


def _trafilatura() -> tuple[Callable[[str], str | None], str] | None:
    try:
        module: Any = importlib.import_module("trafilatura")
    except ImportError:
        return None

    def extract(html: str) -> str | None:
        result = module.extract(f"<html><body>{html}</body></html>")
        return str(result) if result is not None else None

    return extract, importlib.metadata.version("trafilatura")


def _collapse(text: str) -> str:
    return " ".join(text.split())


def bigram_jaccard(a: str, b: str) -> float:
    x = {a[i : i + 2] for i in range(len(a) - 1)}
    y = {b[i : i + 2] for i in range(len(b) - 1)}
    return len(x & y) / len(x | y) if x | y else 1.0


def _cpu_ms(function: Callable[[str], object], bodies: Sequence[str]) -> tuple[float, list[object]]:
    start = time.process_time()
    results = [function(body) for body in bodies]
    return 1000 * (time.process_time() - start) / len(bodies), results


def compare(bodies: Sequence[str], *, limit: int = SAMPLE_BODIES) -> Comparison:
    found = _trafilatura()
    if found is None:
        return Comparison(False, note="trafilatura is not installed (pip install -e '.[bench]')")
    extract, version = found
    sample = list(bodies[:limit])
    if not sample:
        return Comparison(True, version, note="no bodies to compare")
    for body in sample[:WARMUP_BODIES]:
        ours(body)
        extract(body)
    ours_ms, mine = _cpu_ms(ours, sample)
    theirs_ms, theirs = _cpu_ms(extract, sample)
    jaccard: list[float] = []
    ratio: list[float] = []
    for a, b in zip(mine, theirs, strict=True):
        x, y = _collapse(str(a)), _collapse(str(b or ""))
        jaccard.append(bigram_jaccard(x, y))
        ratio.append(difflib.SequenceMatcher(None, x, y).ratio())
    return Comparison(
        True,
        version,
        len(sample),
        ours_ms,
        theirs_ms,
        sum(1 for b in theirs if not b),
        sum(jaccard) / len(jaccard),
        sum(ratio) / len(ratio),
    )
