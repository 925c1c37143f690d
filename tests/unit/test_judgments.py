"""Judgment files of `newsflow eval search`: what they must hold, and the judged set of the repo."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.evaluation.judgments import MUST_FIND, Kind, load_judgments, parse_judgments

REPO = Path(__file__).resolve().parents[2]
JUDGMENTS = REPO / "tests" / "fixtures" / "search" / "search-judgments.json"
CORPUS = REPO.parent / "shared" / "data"


def _one(**changes: object) -> str:
    query: dict[str, object] = {
        "id": "sse",
        "query": "上交所",
        "kind": "abbreviation",
        "relevant": {"rsshub-page/a.md": 2},
    }
    query.update(changes)
    return json.dumps({"corpus": "sources.yaml", "queries": [query]}, ensure_ascii=False)


def test_a_valid_file() -> None:
    judged = parse_judgments(_one(filters={"from": "2022-01-01"}))
    (query,) = judged.queries
    assert (query.kind, query.must_find, query.filters) == (Kind.ABBREVIATION, True, {"from": "2022-01-01"})
    assert not parse_judgments(_one(kind="topic")).queries[0].must_find


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON (line 1"),
        (_one(relevant={"rsshub-page/a.md": 3}), "queries.0.relevant.rsshub-page/a.md (query 'sse')"),
        (_one(relevant={"rsshub-page/a.md": 0}), "greater than or equal to 1"),
        (_one(relevant={}), "queries.0.relevant (query 'sse')"),
        (_one(relevant={"no-folder.md": 2}), "should match pattern"),
        (_one(kind="gossip"), "queries.0.kind (query 'sse')"),
        (_one(query="  "), "queries.0.query"),
        (_one(id="Not A Slug"), "queries.0.id"),
        (_one(extra=1), "Extra inputs are not permitted"),
        (json.dumps({"corpus": "s.yaml", "queries": []}), "queries: List should have at least 1 item"),
    ],
)
def test_bad_files_are_refused_with_a_message_naming_the_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match="judgment file: ") as caught:
        parse_judgments(text)
    assert message in str(caught.value)


def test_query_ids_are_unique() -> None:
    data = json.loads(_one())
    data["queries"].append(dict(data["queries"][0]))
    with pytest.raises(ConfigError, match="query id 'sse' is used twice"):
        parse_judgments(json.dumps(data))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read judgment file"):
        load_judgments(tmp_path / "none.json")


def test_the_judged_set_of_the_repo() -> None:
    """At least 40 queries of every kind editors type, each judged document a real post of the corpus."""
    judged, sources = load_judgments(JUDGMENTS)
    assert sources == (JUDGMENTS.parent / "corpus-sources.yaml").resolve()
    assert len(judged.queries) >= 40
    kinds = Counter(query.kind for query in judged.queries)
    assert set(kinds) == set(Kind), f"kinds without a query: {set(Kind) - set(kinds)}"
    assert sum(kinds[kind] for kind in MUST_FIND) >= 20
    for query in judged.queries:
        for name in query.relevant:
            assert (CORPUS / name).is_file(), f"{query.id}: {name} is not a post of {CORPUS}"
        assert len(set(query.relevant)) == len(query.relevant)
