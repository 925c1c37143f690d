"""Ranking metrics of `newsflow eval search`, against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from pipeline.evaluation.metrics import dcg, mean, ndcg_at, recall_at, reciprocal_rank, score

GRADES = {"a": 2, "b": 1}


def test_dcg_uses_exponential_gain_and_log2_discount() -> None:
    assert dcg([2, 1]) == pytest.approx(3 / math.log2(2) + 1 / math.log2(3))
    assert dcg([]) == 0.0


@pytest.mark.parametrize(
    ("ranking", "expected"),
    [
        (["a", "b"], 1.0),  # the ideal order
        (["b", "a"], (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))),  # 0.797: the mention ranked first
        (["x", "a", "b"], (3 / math.log2(3) + 1 / math.log2(4)) / (3 + 1 / math.log2(3))),
        (["a"], 3 / (3 + 1 / math.log2(3))),  # a relevant document never returned still counts in the ideal
        (["x", "y"], 0.0),
        ([], 0.0),
    ],
)
def test_ndcg(ranking: list[str], expected: float) -> None:
    assert ndcg_at(ranking, GRADES) == pytest.approx(expected)


def test_ndcg_cuts_at_k_and_is_zero_without_judgments() -> None:
    ranking = [f"x{i}" for i in range(10)] + ["a", "b"]
    assert ndcg_at(ranking, GRADES, k=10) == 0.0
    assert ndcg_at(ranking, GRADES, k=12) > 0.0
    assert ndcg_at(["a"], {}) == 0.0


def test_ideal_is_cut_at_k_too() -> None:
    grades = {f"d{i}": 2 for i in range(12)}
    assert ndcg_at([f"d{i}" for i in range(10)], grades, k=10) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("ranking", "min_grade", "expected"),
    [(["a", "b"], 1, 1.0), (["b"], 1, 0.5), (["b"], 2, 0.0), (["x", "a"], 2, 1.0), ([], 1, 0.0)],
)
def test_recall(ranking: list[str], min_grade: int, expected: float) -> None:
    assert recall_at(ranking, GRADES, min_grade=min_grade) == pytest.approx(expected)


def test_recall_counts_only_the_first_k() -> None:
    assert recall_at(["x", "y", "a"], GRADES, k=2) == 0.0
    assert recall_at(["x", "y", "a"], GRADES, k=3) == 0.5


@pytest.mark.parametrize(
    ("ranking", "expected"), [(["a"], 1.0), (["x", "b"], 0.5), (["x", "y", "z", "a"], 0.25), (["x"], 0.0)]
)
def test_reciprocal_rank(ranking: list[str], expected: float) -> None:
    assert reciprocal_rank(ranking, GRADES) == pytest.approx(expected)


def test_score_lists_what_was_missed_best_grade_first() -> None:
    result = score(["x"], {"c": 1, "a": 2, "b": 2})
    assert result.missed == ("a", "b", "c")
    assert (result.ndcg, result.recall, result.rr) == (0.0, 0.0, 0.0)
    assert score(["b", "a", "c"], {"c": 1, "a": 2, "b": 2}).missed == ()


def test_mean() -> None:
    assert mean([1.0, 0.5]) == 0.75
    assert mean([]) == 0.0
