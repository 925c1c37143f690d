"""Search quality on the judged queries of tests/fixtures/search, against the real Elasticsearch.

The real posts of ../shared/data are polled (dry run), normalized and indexed into an index of this
test's own, then every judged query goes through the read API's search (`newsflow eval search`).
Targets: nDCG@10 >= 0.90 over all queries, and every query that names something by an abbreviation,
an alias or a ticker form finds the stories judged about it in its first ten results.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.evaluation.search_eval import evaluate, format_evaluation
from tests.conftest import REPO

pytestmark = pytest.mark.services

JUDGMENTS = REPO / "tests" / "fixtures" / "search" / "search-judgments.json"
CORPUS = REPO.parent / "shared" / "data"
TARGET_NDCG = 0.90


def test_judged_queries_reach_the_targets(isolated: Settings, tmp_path: Path) -> None:
    assert CORPUS.is_dir(), f"the corpus of real posts is missing: {CORPUS}"
    lines: list[str] = []
    evaluation = evaluate(isolated, JUDGMENTS, report=lines.append)
    lines += format_evaluation(evaluation)
    print("\n".join(lines))
    assert not evaluation.refused, f"judged posts the pipeline refused: {sorted(evaluation.refused)}"
    failures = {q.id: q.missed for q in evaluation.must_find_failures}
    assert not failures, f"abbreviation, alias and ticker queries missing their stories: {failures}"
    assert evaluation.ndcg >= TARGET_NDCG, f"nDCG@10 {evaluation.ndcg:.3f} < {TARGET_NDCG}"
