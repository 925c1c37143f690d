"""Ranking metrics of one query: nDCG@k, recall@k and reciprocal rank, from graded judgments.

Pure. `ranking` is the list of document ids the engine returned, best first; `grades` maps every
judged relevant document id to its grade (2 = about it, 1 = mentions it; unjudged documents count
as 0). nDCG uses the exponential gain 2^grade - 1 and a log2 rank discount (Järvelin and
Kekäläinen; the form trec_eval and most IR toolkits use), normalized by the ideal ranking of all
judged documents, so a relevant document that never comes back lowers the score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CUTOFF = 10


def _gain(grade: int) -> float:
    return float(2**grade - 1)


def dcg(grades_in_order: Sequence[int]) -> float:
    return sum(_gain(grade) / math.log2(rank + 2) for rank, grade in enumerate(grades_in_order))


def ndcg_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF) -> float:
    """nDCG@k (0.0 when nothing is judged relevant)."""
    ideal = dcg(sorted((g for g in grades.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(doc, 0) for doc in ranking[:k]]) / ideal


def recall_at(ranking: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF, *, min_grade: int = 1) -> float:
    """Share of the documents graded `min_grade` or more that are in the first k."""
    relevant = {doc for doc, grade in grades.items() if grade >= min_grade}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def reciprocal_rank(ranking: Sequence[str], grades: Mapping[str, int]) -> float:
    """1 / rank of the first relevant document (grade 1 or more); 0.0 when none came back."""
    for rank, doc in enumerate(ranking, start=1):
        if grades.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


@dataclass(frozen=True)
class QueryScore:
    ndcg: float
    recall: float
    rr: float
    missed: tuple[str, ...]  # relevant documents (any grade) not in the first k, best grade first


def score(ranking: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF) -> QueryScore:
    top = set(ranking[:k])
    by_grade = sorted(grades.items(), key=lambda item: (-item[1], item[0]))
    missed = tuple(doc for doc, grade in by_grade if grade > 0 and doc not in top)
    return QueryScore(
        ndcg=ndcg_at(ranking, grades, k),
        recall=recall_at(ranking, grades, k),
        rr=reciprocal_rank(ranking, grades),
        missed=missed,
    )


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
