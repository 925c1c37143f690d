"""A labelled set of story groups and pairwise precision and recall of predicted groups against it. Pure.

The set (JSON, see tests/fixtures/stories/labels.json) names files of a corpus and groups them:
`stories` are same-event groups, each with its `copies` groups (copies of one text) inside; `uncertain`
groups hold pairs whose relation the judge could not decide. Every file not in a group is a story of its own.

Pairs (unordered, of distinct files) are counted twice:
- **copies**: recall = labelled copy pairs predicted together / labelled copy pairs; precision = those /
  predicted pairs that are not same-event-but-not-copy pairs (a rewrite grouped with its event is not a
  wrong copy, nor a right one) and not uncertain;
- **same event** (copies included): recall = labelled same-event pairs predicted together / labelled
  same-event pairs; precision = those / predicted pairs that are not uncertain.
A pair with a file that got no story (not parsed) is never predicted together.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

Pair = tuple[str, str]


def _pairs(group: Iterable[str]) -> set[Pair]:
    return {(a, b) for a, b in combinations(sorted(set(group)), 2)}


@dataclass(frozen=True)
class Labels:
    copies: frozenset[Pair]
    events: frozenset[Pair]  # copies included
    uncertain: frozenset[Pair]  # not labelled otherwise
    files: frozenset[str]  # every file a group names
    corpus_files: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Labels:
        copies: set[Pair] = set()
        events: set[Pair] = set()
        files: set[str] = set()
        for story in data["stories"]:
            members = set(story["files"])
            files |= members
            events |= _pairs(members)
            for group in story.get("copies", []):
                outside = set(group) - members
                if outside:
                    raise ValueError(f"copies {sorted(outside)} are not in their story {story.get('about', '')!r}")
                copies |= _pairs(group)
        uncertain: set[Pair] = set()
        for group in data.get("uncertain", []):
            files |= set(group["files"])
            uncertain |= _pairs(group["files"])
        return cls(
            frozenset(copies),
            frozenset(events),
            frozenset(uncertain - events),
            frozenset(files),
            int(data.get("corpus_files", 0)),
        )

    @classmethod
    def read(cls, path: Path) -> Labels:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Score:
    labelled: int  # pairs labelled
    found: int  # of those, predicted together
    predicted: int  # predicted pairs counted for precision
    correct: int  # of those, labelled

    @property
    def recall(self) -> float:
        return self.found / self.labelled if self.labelled else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


def predicted_pairs(stories: Mapping[str, str | None]) -> set[Pair]:
    """Pairs of files with the same story id (files without one are never paired)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name, story in stories.items():
        if story is not None:
            groups[story].append(name)
    return set().union(*(_pairs(group) for group in groups.values()))


def score(labels: Labels, predicted: set[Pair], *, among: Iterable[str] | None = None) -> tuple[Score, Score]:
    """(copies, same event) scores; `among`: only pairs of these files count (e.g. the files that were parsed)."""
    copies, events, uncertain = set(labels.copies), set(labels.events), set(labels.uncertain)
    if among is not None:
        kept = set(among)
        copies, events, uncertain = (
            {p for p in s if p[0] in kept and p[1] in kept} for s in (copies, events, uncertain)
        )
        predicted = {p for p in predicted if p[0] in kept and p[1] in kept}
    for_copies = predicted - (events - copies) - uncertain
    for_events = predicted - uncertain
    return (
        Score(len(copies), len(predicted & copies), len(for_copies), len(for_copies & copies)),
        Score(len(events), len(predicted & events), len(for_events), len(for_events & events)),
    )
