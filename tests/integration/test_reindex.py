"""`newsflow index reindex` on the real Kafka and Elasticsearch: the next index version is built in full
while a reader keeps searching the alias, then the alias moves in one call.

The reader thread counts documents and runs a Chinese query over the alias without pause from before
the reindex until after it; it must never see fewer hits than before, never get an error, and see the
old index, then the new one, never a mix. The live index worker keeps running, and articles that
arrive while the new index is being built must end up in it (the catch-up before and after the swap).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import pytest
from elasticsearch import Elasticsearch

from pipeline import cli, kafka, search
from pipeline.config import Settings
from pipeline.errors import ConfigError
from pipeline.reindex import reindex
from pipeline.workers.consume import StopFlag
from pipeline.workers.main import run_indexer
from schemas.models import Article
from tests.support.articles import make_article

pytestmark = pytest.mark.services

QUERY = "跨境电商"
ARTICLES = 3000
LIVE = 25
TWICE = 10  # ids sent twice: the newer copy first, then an older one that must not win


def _article(number: int, *, version: int = 1_000, title: str | None = None) -> Article:
    if number % 3 == 0:
        body = f"第{number}号报道：广东推进{QUERY}综试区建设，外贸企业加快布局海外仓。"
        default_title, language = f"{QUERY}观察 {number}", "zh"
    else:
        body = f"Report {number}: shipping volumes and port traffic rose again this quarter."
        default_title, language = f"Harbour report {number}", "en"
    return make_article(
        f"r{number:05d}",
        title=title or default_title,
        body=body,
        url=f"https://news.example/r{number}",
        summary=body[:60],
        language=language,
        outlet="测试日报" if language == "zh" else "Harbour City Wire",
        tags=["reindex"],
        content_hash=f"h{number}",
        source_id="reindex-test",
        version=version,
    )


def _produce(settings: Settings, articles: Sequence[Article]) -> None:
    producer = kafka.producer(settings)
    try:
        futures = [
            kafka.send(
                producer,
                settings.topic_articles,
                a.id,
                a.model_dump_json().encode(),
                kafka.headers_for(a, a.source_id),
            )
            for a in articles
        ]
        kafka.flush(producer, futures)
    finally:
        producer.close()


def _wait_for(what: str, condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _count(es: Elasticsearch, index: str) -> int:
    es.indices.refresh(index=index)
    return int(es.count(index=index)["count"])


def _versions(es: Elasticsearch, index: str) -> dict[str, tuple[int, str]]:
    """Every document's (version, title) by _id: the version of the copy whose content it shows."""
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=10_000, source=["version", "title"], query={"match_all": {}})["hits"]["hits"]
    return {hit["_id"]: (int(hit["_source"]["version"]), hit["_source"]["title"]) for hit in hits}


@dataclass
class Reader:
    """Searches the alias without pause in a thread: a count, and a Chinese full-text query."""

    settings: Settings
    counts: list[int] = field(default_factory=list)
    matches: list[int] = field(default_factory=list)
    served: list[str] = field(default_factory=list)  # the index that answered each query, consecutive duplicates merged
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        es = search.client(self.settings, timeout_s=10.0)
        alias = self.settings.index_alias
        try:
            while not self.stop.is_set():
                try:
                    self.counts.append(int(es.count(index=alias)["count"]))
                    body = {"multi_match": {"query": QUERY, "fields": ["title", "body_text"], "operator": "and"}}
                    answer = es.search(index=alias, query=body, size=20, track_total_hits=True)
                except Exception as exc:  # noqa: BLE001 - any failure is what the test looks for
                    self.errors.append(repr(exc))
                    continue
                self.matches.append(int(answer["hits"]["total"]["value"]))
                indices = sorted({hit["_index"] for hit in answer["hits"]["hits"]})
                name = indices[0] if len(indices) == 1 else "+".join(indices) or "no hits"
                if not self.served or self.served[-1] != name:
                    self.served.append(name)
        finally:
            es.close()


@pytest.fixture
def newsflow(isolated: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., int]]:
    """Runs the `newsflow` command in-process with the test's settings; the logging it sets up is undone after."""
    for name, value in isolated.as_env().items():
        monkeypatch.setenv(name, value)
    loggers = [logging.getLogger(name) for name in ("", "kafka", "elastic_transport")]
    saved = [(logger, list(logger.handlers), logger.level) for logger in loggers]
    yield lambda *argv: cli.main(list(argv))
    for logger, handlers, level in saved:  # its handler writes to this test's captured stderr, closed after it
        for handler in [h for h in logger.handlers if h not in handlers]:
            logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
def live_indexer(isolated: Settings) -> Iterator[Settings]:
    """The index worker running in a thread, as in production, until the test ends."""
    kafka.ensure_topics(isolated)
    search.ensure_index(search.client(isolated), isolated)  # the alias exists before the test reads it
    stop = StopFlag()
    worker = threading.Thread(target=run_indexer, args=(isolated,), kwargs={"stop": stop}, daemon=True)
    worker.start()
    try:
        yield isolated
    finally:
        stop.set()
        worker.join(timeout=30)
        assert not worker.is_alive(), "the index worker did not stop"


def test_reindex_from_kafka_swaps_without_a_gap_then_again_from_the_index(
    live_indexer: Settings, newsflow: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = live_indexer
    alias, v1, v2, v3 = (settings.index_alias, *(f"{settings.index_alias}-v{n}" for n in (1, 2, 3)))
    es = search.client(settings, timeout_s=60.0)
    newer = [_article(n, version=2_000, title=f"新版标题 {n}") for n in range(TWICE)]
    older = [_article(n, version=1_500, title=f"旧版标题 {n}") for n in range(TWICE)]
    _produce(settings, [*newer, *(_article(n) for n in range(TWICE, ARTICLES)), *older])
    _wait_for("the index worker to store every article", lambda: _count(es, alias) == ARTICLES, 120)
    before = _versions(es, v1)
    assert before["r00003"] == (2_000, "新版标题 3")  # the older copy, sent later, did not win
    baseline_count = ARTICLES
    baseline_matches = int(es.count(index=alias, query={"match_phrase": {"body_text": QUERY}})["count"])
    assert baseline_matches == len(range(0, ARTICLES, 3))

    live = [_article(n) for n in range(ARTICLES, ARTICLES + LIVE)]
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if line.startswith("replay ") and " in " in line:  # the first pass is done: news arrives, v1 gets it
            _produce(settings, live)
            _wait_for("the live articles in v1", lambda: _count(es, v1) == ARTICLES + LIVE)

    reader = Reader(settings)
    thread = threading.Thread(target=reader.run, daemon=True)
    thread.start()
    try:
        _wait_for("the reader to start", lambda: len(reader.matches) >= 5)
        at_start = len(reader.matches)
        done = reindex(settings, report=report, batch_size=400)
        during = len(reader.matches) - at_start
        seen = len(reader.matches)
        _wait_for("the reader to query the new index", lambda: len(reader.matches) >= seen + 5)
    finally:
        reader.stop.set()
        thread.join(timeout=30)

    with capsys.disabled():
        print(
            f"\nreindex {done.seconds:.1f}s, {done.new_count} documents; "
            f"reader: {len(reader.matches)} queries ({during} during it), "
            f"min count {min(reader.counts)} (baseline {baseline_count}), "
            f"min {QUERY} hits {min(reader.matches)} (baseline {baseline_matches})"
        )
    assert reader.errors == []
    assert min(reader.counts) >= baseline_count and min(reader.matches) >= baseline_matches
    assert reader.served == [v1, v2]  # the old index, then the new one; never both in one answer, never back
    assert (done.old, done.new, done.source, done.old_deleted) == (v1, v2, "kafka", False)
    assert done.tally.read == ARTICLES + TWICE + LIVE and done.tally.stale >= TWICE
    assert done.tally.invalid == 0 and done.tally.rejected == []
    assert any(line.startswith(f"swapped: {alias} -> {v2}") for line in lines)
    assert any(line.startswith(f"kept {v1}") and "curl -X DELETE" in line for line in lines)

    aliases = es.indices.get_alias(name=alias)
    assert list(aliases) == [v2] and aliases[v2]["aliases"][alias]["is_write_index"] is True
    rebuilt = _versions(es, v2)
    assert len(rebuilt) == ARTICLES + LIVE
    assert {k: v for k, v in rebuilt.items() if k in before} == before  # versions (and the newer titles) kept
    assert _count(es, v1) == ARTICLES + LIVE  # the old index is kept as it was

    # The second time: a copy of v2 (no _reindex here), through the CLI, deleting the old index.
    capsys.readouterr()
    assert newsflow("index", "reindex", "--from-index", "--delete-old") == 0
    out = capsys.readouterr().out
    assert f"reindex: {alias} -> {v2}; building {v3} by copying {v2}" in out
    assert f"copy {v2}: {ARTICLES + LIVE}/{ARTICLES + LIVE} (100%)" in out
    assert f"swapped: {alias} -> {v3}" in out and f"deleted {v2}" in out
    assert search.alias_targets(es, alias) == [v3]
    assert not es.indices.exists(index=v2) and es.indices.exists(index=v1)
    assert _versions(es, v3) == rebuilt
    es.close()


def test_reindex_refuses_to_swap_when_the_new_index_would_lose_documents(
    live_indexer: Settings, newsflow: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = live_indexer
    alias, v1, v2 = settings.index_alias, f"{settings.index_alias}-v1", f"{settings.index_alias}-v2"
    es = search.client(settings)
    _produce(settings, [_article(n) for n in range(5)])
    _wait_for("the index worker", lambda: es.indices.exists(index=v1) and _count(es, v1) == 5)
    assert search.bulk_index(es, [_article(99)], alias).ok == 1  # in the index, never on the topic

    assert newsflow("index", "reindex") == 1
    captured = capsys.readouterr()
    error = captured.err.strip().splitlines()[-1]
    assert error.startswith(f"newsflow: error: {v2} has 5 documents but {v1} has 6")
    assert "not swapping" in error and "--from-index" in error
    assert f"reindex failed: deleted the unfinished {v2}; {alias} still points at {v1}" in captured.out
    assert search.alias_targets(es, alias) == [v1] and not es.indices.exists(index=v2)

    done = reindex(settings, from_index=True, report=lambda _line: None)  # the copy keeps what only the index has
    assert (done.new, done.new_count) == (v2, 6) and search.alias_targets(es, alias) == [v2]
    es.close()


def test_reindex_needs_an_alias_over_a_versioned_index(isolated: Settings) -> None:
    with pytest.raises(ConfigError, match="does not exist: create it with `newsflow index init`"):
        reindex(isolated, report=lambda _line: None)
    es = search.client(isolated)
    es.indices.create(index=f"{isolated.index_alias}-legacy", aliases={isolated.index_alias: {}})
    with pytest.raises(ConfigError, match="not at a versioned index"):
        reindex(isolated, report=lambda _line: None)
    es.close()
