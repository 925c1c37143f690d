"""`newsflow eval search` around the search itself: names to ids, refused posts, must-find, the report.

The backend here is a stand-in that answers canned rankings: what is tested is our bookkeeping, not
Elasticsearch (tests/integration/test_search_relevance.py runs the real thing).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.api.models import Hit, SearchResult
from pipeline.api.queries import SearchParams
from pipeline.errors import ConfigError
from pipeline.evaluation.corpus import Corpus
from pipeline.evaluation.judgments import parse_judgments
from pipeline.evaluation.search_eval import format_evaluation, run_queries
from tests.support.articles import make_article


class CannedBackend:
    """Answers each query with the ids given for it, and remembers the parameters it was asked."""

    def __init__(self, rankings: dict[str, list[str]]) -> None:
        self.rankings = rankings
        self.asked: list[SearchParams] = []

    def search(self, params: SearchParams, *, with_facets: bool = False) -> tuple[SearchResult, None]:
        self.asked.append(params)
        ids = self.rankings[params.q]
        hits = [Hit(id=i, score=1.0, article=make_article(i, title=f"title {i}")) for i in ids]
        return SearchResult(query=params.q, total=len(hits), page=1, size=params.size, pages=1, hits=hits), None


CORPUS = Corpus(
    ids={"f/a.md": "A", "f/old_a.md": "A", "f/b.md": "B", "f/c.md": "C"},  # a.md saved twice: one document
    refused={"f/broken.md": "no front matter"},
)


def _judged(*queries: dict[str, Any]) -> Any:
    return parse_judgments(json.dumps({"corpus": "s.yaml", "queries": list(queries)}))


def _query(query_id: str, text: str, kind: str, relevant: dict[str, int], **extra: Any) -> dict[str, Any]:
    return {"id": query_id, "query": text, "kind": kind, "relevant": relevant, **extra}


def test_names_map_to_ids_and_two_names_of_one_document_count_once() -> None:
    judged = _judged(_query("q1", "甲", "company", {"f/a.md": 1, "f/old_a.md": 2, "f/b.md": 1}))
    evaluation = run_queries(CannedBackend({"甲": ["A", "B"]}), judged, CORPUS)
    (result,) = evaluation.queries
    assert (result.relevant, result.ndcg, result.recall, result.rr) == (2, 1.0, 1.0, 1.0)  # A graded 2, once


def test_a_refused_post_is_missed_and_reported() -> None:
    judged = _judged(_query("q1", "乙", "abbreviation", {"f/b.md": 2, "f/broken.md": 2}))
    evaluation = run_queries(CannedBackend({"乙": ["B"]}), judged, CORPUS)
    (result,) = evaluation.queries
    assert result.recall == 0.5 and result.unindexed == ["f/broken.md"] and result.missed == []
    assert result.must_find and not result.found_all
    assert evaluation.refused == {"f/broken.md": "no front matter"}
    assert [q.id for q in evaluation.must_find_failures] == ["q1"]
    text = "\n".join(format_evaluation(evaluation))
    assert "f/broken.md (not indexed)  [MISSES]" in text
    assert "abbreviation, alias and ticker queries finding all their stories: 0/1" in text
    assert "f/broken.md: no front matter" in text


def test_must_find_needs_only_the_stories_about_it() -> None:
    """Mentions (grade 1) may rank below the first ten; the stories about the thing (grade 2) may not."""
    judged = _judged(
        _query("about", "丙", "ticker", {"f/a.md": 2, "f/c.md": 1}),
        _query("mentions", "丁", "alias", {"f/b.md": 1, "f/c.md": 1}),
    )
    backend = CannedBackend({"丙": ["A"], "丁": ["B"]})
    evaluation = run_queries(backend, judged, CORPUS, k=10)
    about, mentions = evaluation.queries
    assert about.found_all and about.missed == ["f/c.md"]
    assert not mentions.found_all  # nothing about it: every mention counts
    assert about.ranking == [(2, "title A")]


def test_filters_go_to_the_search_and_bad_ones_are_refused() -> None:
    backend = CannedBackend({"戊": ["C"]})
    good = _judged(_query("q1", "戊", "topic", {"f/c.md": 2}, filters={"from": "2022-01-01", "outlet": ["X"]}))
    run_queries(backend, good, CORPUS)
    (asked,) = backend.asked
    assert (asked.from_, asked.outlet, asked.size) == ("2022-01-01", ["X"], 10)
    bad = _judged(_query("q1", "戊", "topic", {"f/c.md": 2}, filters={"from": "yesterday"}))
    with pytest.raises(ConfigError, match="query 'q1': invalid filters"):
        run_queries(backend, bad, CORPUS)


def test_a_judged_name_that_is_not_in_the_corpus_is_an_error() -> None:
    judged = _judged(_query("q1", "己", "topic", {"f/typo.md": 2}))
    with pytest.raises(ConfigError, match=r"judged documents that are not in the corpus: f/typo\.md"):
        run_queries(CannedBackend({}), judged, CORPUS)
