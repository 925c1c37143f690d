"""`newsflow eval search`: judged queries through the read API's search, against a real index.

By default the corpus of the judgment file is polled (dry run), normalized and indexed into a fresh
index of its own (alias `<index alias>-eval-<random>`, removed afterwards); with `alias` the queries run
against an existing alias that already holds the corpus. Every query goes through
`pipeline.api.backend.Backend.search` with the read API's own `SearchParams`, so what is measured is
exactly what `GET /search` answers.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from pipeline import search
from pipeline.api.backend import Backend
from pipeline.api.models import SearchResult
from pipeline.api.queries import SearchParams
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.evaluation.corpus import Corpus, load_corpus
from pipeline.evaluation.judgments import Judgment, JudgmentSet, load_judgments
from pipeline.evaluation.metrics import CUTOFF, mean, score

Report = Callable[[str], None]


@dataclass(frozen=True)
class QueryResult:
    id: str
    query: str
    kind: str
    ndcg: float
    recall: float
    rr: float
    relevant: int
    missed: list[str]
    unindexed: list[str]
    must_find: bool
    found_all: bool  # every document of the query's highest grade is in the first k
    took_ms: float
    ranking: list[tuple[int, str]]  # the first k hits: (judged grade, title)


@dataclass
class Evaluation:
    queries: list[QueryResult] = field(default_factory=list)
    documents: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # judged documents the pipeline did not index

    @property
    def ndcg(self) -> float:
        return mean([q.ndcg for q in self.queries])

    @property
    def recall(self) -> float:
        return mean([q.recall for q in self.queries])

    @property
    def mrr(self) -> float:
        return mean([q.rr for q in self.queries])

    @property
    def must_find_failures(self) -> list[QueryResult]:
        return [q for q in self.queries if q.must_find and not q.found_all]

    def by_kind(self) -> dict[str, tuple[int, float, float, float]]:
        groups: dict[str, list[QueryResult]] = defaultdict(list)
        for result in self.queries:
            groups[result.kind].append(result)
        return {
            kind: (
                len(items),
                mean([q.ndcg for q in items]),
                mean([q.recall for q in items]),
                mean([q.rr for q in items]),
            )
            for kind, items in sorted(groups.items())
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "ndcg_at_10": self.ndcg,
            "recall_at_10": self.recall,
            "mrr": self.mrr,
            "queries": [asdict(q) for q in self.queries],
            "documents": self.documents,
            "refused_judged_documents": self.refused,
            "must_find_failures": [q.id for q in self.must_find_failures],
        }


_UNINDEXED = "\0unindexed:"  # stands for a judged document the index does not hold: never returned


def _grades(judgment: Judgment, corpus: Corpus) -> tuple[dict[str, int], dict[str, str]]:
    """Judged grades by article id (two names of one document keep the higher grade; a document the
    pipeline refused keeps its grade under a key no hit can have, so it counts as missed), and the
    names of the article ids."""
    grades: dict[str, int] = {}
    names: dict[str, str] = {}
    for name, grade in judgment.relevant.items():
        key = corpus.id_of(name) or _UNINDEXED + name
        grades[key] = max(grade, grades.get(key, 0))
        names.setdefault(key, name)
    return grades, names


def _check_names(judged: JudgmentSet, corpus: Corpus) -> None:
    unknown = sorted(
        {name for j in judged.queries for name in j.relevant if name not in corpus.ids and name not in corpus.refused}
    )
    if unknown:
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        raise ConfigError(f"judged documents that are not in the corpus: {', '.join(unknown[:3])}{more}")


def _params(judgment: Judgment, size: int) -> SearchParams:
    try:
        return SearchParams.model_validate({**judgment.filters, "q": judgment.query, "size": size})
    except ValidationError as exc:
        raise ConfigError(f"query {judgment.id!r}: invalid filters: {exc.errors()[0]['msg']}") from None


class Searcher(Protocol):
    """What the evaluation needs of the read API's backend: its search."""

    def search(self, params: SearchParams, *, with_facets: bool = False) -> tuple[SearchResult, object]: ...


def run_queries(backend: Searcher, judged: JudgmentSet, corpus: Corpus, *, k: int = CUTOFF) -> Evaluation:
    """Every judged query through the read API's search; the scores of its first k results."""
    _check_names(judged, corpus)
    evaluation = Evaluation(documents=len(corpus.articles))
    judged_names = {name for j in judged.queries for name in j.relevant}
    evaluation.refused = {name: reason for name, reason in corpus.refused.items() if name in judged_names}
    for judgment in judged.queries:
        grades, names = _grades(judgment, corpus)
        started = time.perf_counter()
        result, _ = backend.search(_params(judgment, k))
        took_ms = (time.perf_counter() - started) * 1000
        scored = score([hit.id for hit in result.hits], grades, k)
        ranking = [(grades.get(hit.id, 0), hit.article.title) for hit in result.hits[:k]]
        missed = [names[key] for key in scored.missed if not key.startswith(_UNINDEXED)]
        unindexed = [names[key] for key in scored.missed if key.startswith(_UNINDEXED)]
        best = max(grades.values())
        # The stories a query names are the documents judged most relevant to it (grade 2, or grade 1
        # when nothing is more than a mention); documents that only mention it may rank lower.
        found_all = not any(grades[key] == best for key in scored.missed)
        evaluation.queries.append(
            QueryResult(
                id=judgment.id,
                query=judgment.query,
                kind=judgment.kind.value,
                ndcg=scored.ndcg,
                recall=scored.recall,
                rr=scored.rr,
                relevant=len(grades),
                missed=missed,
                unindexed=unindexed,
                must_find=judgment.must_find,
                found_all=found_all,
                took_ms=took_ms,
                ranking=ranking,
            )
        )
    return evaluation


def evaluate(
    settings: Settings,
    judgments: Path,
    *,
    alias: str | None = None,
    k: int = CUTOFF,
    keep: bool = False,
    report: Report = print,
) -> Evaluation:
    """Load the judgments and their corpus, index it (unless `alias` holds it already), run the queries."""
    judged, sources_file = load_judgments(judgments)
    started = time.perf_counter()
    corpus = load_corpus(sources_file, settings)
    report(
        f"corpus {sources_file}: {len(corpus.articles)} documents, {len(corpus.refused)} refused "
        f"({time.perf_counter() - started:.1f} s)"
    )
    if alias is not None:
        return run_queries(Backend(settings.model_copy(update={"index_alias": alias})), judged, corpus, k=k)
    alias = f"{settings.index_alias}-eval-{uuid.uuid4().hex[:10]}"
    local = settings.model_copy(update={"index_alias": alias, "index_version": 1})
    es = search.client(local)
    try:
        started = time.perf_counter()
        index = search.ensure_index(es, local)
        written = search.bulk_index(es, corpus.articles, index)
        if written.dead:
            first, reason = written.dead[0]
            raise ConfigError(f"{len(written.dead)} corpus documents were refused by the index: {first.id}: {reason}")
        es.indices.refresh(index=index)
        report(f"indexed into {local.index_alias} ({time.perf_counter() - started:.1f} s)")
        backend = Backend(local)
        try:
            return run_queries(backend, judged, corpus, k=k)
        finally:
            backend.close()
    finally:
        if not keep:
            drop_index(es, local)
        else:
            report(f"kept the alias {local.index_alias}")
        es.close()


def drop_index(es: Any, settings: Settings) -> None:
    """Remove an evaluation's index and template (never anything else: names are its own)."""
    names = list(es.options(ignore_status=404).indices.get(index=f"{settings.index_alias}-v*"))
    if names:
        es.indices.delete(index=",".join(names))
    es.options(ignore_status=404).indices.delete_index_template(name=f"{settings.index_alias}-template")


def format_evaluation(evaluation: Evaluation, *, k: int = CUTOFF, rankings: bool = False) -> list[str]:
    """The evaluation as lines of text: one per query (with its first k hits and their judged grades
    if `rankings`), then by kind, then overall."""
    lines = [f"{'query':<28} {'kind':<12} {'nDCG@' + str(k):>8} {'R@' + str(k):>6} {'RR':>5}  missed"]
    for q in evaluation.queries:
        flags = "" if not q.must_find else ("  [finds all]" if q.found_all else "  [MISSES]")
        missed = ", ".join(q.missed + [f"{name} (not indexed)" for name in q.unindexed])
        lines.append(f"{q.id:<28} {q.kind:<12} {q.ndcg:8.3f} {q.recall:6.3f} {q.rr:5.2f}  {missed}{flags}")
        if rankings:
            lines.append(f"    {q.query!r}")
            lines.extend(f"    {rank:>2}. [{grade}] {title}" for rank, (grade, title) in enumerate(q.ranking, start=1))
    lines.append("")
    lines.append(f"{'kind':<28} {'queries':>12} {'nDCG@' + str(k):>8} {'R@' + str(k):>6} {'MRR':>5}")
    for kind, (n, ndcg, recall, mrr) in evaluation.by_kind().items():
        lines.append(f"{kind:<28} {n:>12} {ndcg:8.3f} {recall:6.3f} {mrr:5.2f}")
    lines.append("")
    took = sorted(q.took_ms for q in evaluation.queries)
    median = took[len(took) // 2] if took else 0.0
    lines.append(
        f"overall ({len(evaluation.queries)} queries, {evaluation.documents} documents): "
        f"nDCG@{k} {evaluation.ndcg:.3f}  recall@{k} {evaluation.recall:.3f}  MRR {evaluation.mrr:.3f}  "
        f"(median {median:.0f} ms per query)"
    )
    failures = evaluation.must_find_failures
    must = [q for q in evaluation.queries if q.must_find]
    found = len(must) - len(failures)
    lines.append(f"abbreviation, alias and ticker queries finding all their stories: {found}/{len(must)}")
    if evaluation.refused:
        lines.append(f"judged documents the pipeline refused ({len(evaluation.refused)}):")
        lines.extend(f"  {name}: {reason}" for name, reason in sorted(evaluation.refused.items()))
    return lines


def write_json(evaluation: Evaluation, path: Path) -> None:
    path.write_text(json.dumps(evaluation.as_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def command(
    settings: Settings,
    judgments: Path,
    *,
    alias: str | None,
    keep: bool,
    json_path: Path | None,
    fail_under: float | None,
    rankings: bool = False,
) -> int:
    """`newsflow eval search`: print the figures; exit 1 if nDCG@10 is below `fail_under` or a query
    of an abbreviation, alias or ticker misses one of its stories (when `fail_under` is given)."""
    evaluation = evaluate(settings, judgments, alias=alias, keep=keep)
    for line in format_evaluation(evaluation, rankings=rankings):
        print(line)
    if json_path is not None:
        write_json(evaluation, json_path)
    if fail_under is not None and (evaluation.ndcg < fail_under or evaluation.must_find_failures):
        print(
            f"below target: nDCG@{CUTOFF} {evaluation.ndcg:.3f} (target {fail_under:.2f}), "
            f"{len(evaluation.must_find_failures)} abbreviation/alias/ticker queries missing stories"
        )
        return 1
    return 0
