"""Pairwise scores of predicted stories against a labelled set, and the committed set itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.stories.labels import Labels, predicted_pairs, score

LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "labels.json"
TOY = {
    "corpus_files": 7,
    "stories": [
        {"files": ["a", "b", "c", "d"], "copies": [["a", "b", "c"]]},
        {"files": ["e", "f"], "copies": []},
    ],
    "uncertain": [{"files": ["d", "g"], "why": "?"}],
}


def test_pairs_of_copies_events_and_uncertain_calls() -> None:
    labels = Labels.from_json(TOY)
    assert labels.copies == {("a", "b"), ("a", "c"), ("b", "c")}
    assert len(labels.events) == 6 + 1  # a-b-c-d pairs, and e-f
    assert labels.uncertain == {("d", "g")}


def test_scores_count_rewrites_neither_for_nor_against_copies() -> None:
    labels = Labels.from_json(TOY)
    predicted = predicted_pairs({"a": "s1", "b": "s1", "d": "s1", "c": "s2", "e": "s3", "f": "s4", "g": "s1"})
    copies, events = score(labels, predicted)
    # predicted pairs: a-b (copy), a-d and b-d (same event, not copies), a-g and b-g (wrong), d-g (uncertain)
    assert (copies.found, copies.labelled, copies.correct, copies.predicted) == (1, 3, 1, 3)
    assert (events.found, events.labelled, events.correct, events.predicted) == (3, 7, 3, 5)
    assert copies.recall == pytest.approx(1 / 3) and events.precision == pytest.approx(3 / 5)


def test_files_without_a_story_are_never_paired_and_can_be_left_out() -> None:
    labels = Labels.from_json(TOY)
    predicted = predicted_pairs({"a": "s", "b": "s", "c": None})
    copies, _ = score(labels, predicted, among=["a", "b"])
    assert (copies.found, copies.labelled, copies.precision) == (1, 1, 1.0)
    assert score(labels, predicted)[0].recall == pytest.approx(1 / 3)


def test_copies_must_lie_inside_their_story() -> None:
    with pytest.raises(ValueError, match="not in their story"):
        Labels.from_json({"stories": [{"files": ["a", "b"], "copies": [["a", "z"]]}]})


def test_the_committed_set_covers_the_corpus() -> None:
    data = json.loads(LABELS.read_text(encoding="utf-8"))
    labels = Labels.from_json(data)
    assert labels.corpus_files == 218
    assert len(labels.copies) == 17 and len(labels.events) == 60
    assert all(story["about"] for story in data["stories"]) and all(u["why"] for u in data["uncertain"])
    corpus = Path(__file__).resolve().parents[3] / "shared" / "data"
    assert corpus.is_dir(), f"the real posts are missing: expected them in {corpus}"
    names = {f"{p.parent.name}/{p.name}" for p in corpus.glob("*/*.md")}
    assert len(names) == 218 and labels.files <= names
