"""Story grouping against the real Elasticsearch (and Kafka for the replay): copies assigned at the same
moment by different workers share a story, story documents stay current, a replay gives the same groups."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from kafka import TopicPartition

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.sources import jekyll
from pipeline.stories.grouping import Outcome, StoryGrouping, article_fingerprint
from pipeline.stories.labels import Labels
from pipeline.stories.store import StoryStore
from pipeline.workers.main import run_indexer, run_normalizer
from schemas.models import Article, RawItem, SourceInfo, SourceType
from tests.support.articles import make_article
from tests.support.stacks import push_raw

pytestmark = pytest.mark.services

WEEK = timedelta(days=7)
AT = datetime(2024, 6, 3, 2, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data"
LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "labels.json"
ROUNDS = 40
_WORDS = "经济增长市场企业政策投资消费出口价格利率银行证券基金产业技术能源汽车电池数据发布报告表示预计同比上涨下降"


def _text(rng: random.Random, sentences: int = 6) -> str:
    return "".join("".join(rng.choice(_WORDS) for _ in range(rng.randint(18, 30))) + "。" for _ in range(sentences))


def _article(article_id: str, title: str, body: str, *, outlet: str, when: datetime = AT) -> Article:
    return make_article(article_id, title=title, body=body, when=when, outlet=outlet, source_id=f"src-{outlet}")


@pytest.fixture
def es(isolated: Settings) -> Iterator[Elasticsearch]:
    client = search.client(isolated)
    search.ensure_story_indices(client, isolated)
    yield client
    client.close()


def _grouping(settings: Settings) -> tuple[StoryGrouping, Elasticsearch]:
    client = search.client(settings)
    return StoryGrouping(StoryStore(client, settings), WEEK), client


def _at_once(settings: Settings, batches: Sequence[list[Article]]) -> list[Outcome]:
    """Each batch assigned by its own worker (client, store, grouping) in its own thread, started together."""
    workers = [_grouping(settings) for _ in batches]
    barrier = threading.Barrier(len(batches))
    outcomes: list[Outcome | None] = [None] * len(batches)
    errors: list[BaseException] = []

    def work(position: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[position] = workers[position][0].assign(batches[position])
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for _, client in workers:
        client.close()
    assert not errors, errors
    return [outcome for outcome in outcomes if outcome is not None]


@pytest.mark.parametrize(
    ("recent_limit", "rounds"), [(None, ROUNDS), (0, ROUNDS // 2)], ids=["recent-records-read-once", "per-record"]
)
def test_copies_assigned_at_the_same_moment_by_different_workers_share_one_story(
    isolated: Settings,
    es: Elasticsearch,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    recent_limit: int | None,
    rounds: int,
) -> None:
    """The recheck reads the records other workers wrote moments ago in one search and matches them here, or,
    when there are more than `RECENT_LIMIT` of them (forced to 0 here), asks the store per record."""
    if recent_limit is not None:
        monkeypatch.setattr("pipeline.stories.store.RECENT_LIMIT", recent_limit)
    rng = random.Random(42)
    moved = founded_twice = 0
    for round_ in range(rounds):
        body = _text(rng)
        copies = [
            _article(f"r{round_}-{n}", f"第{round_}轮报道", body + ("（转载）" * n), outlet=f"outlet-{n}")
            for n in range(2 if round_ % 5 else 3)  # every fifth round, three workers at once
        ]
        outcomes = _at_once(isolated, [[copy] for copy in copies])
        stories = {o.decisions[c.id].story_id for o, c in zip(outcomes, copies, strict=True)}
        assert len(stories) == 1, f"round {round_}: copies in stories {stories}"
        moved += sum(o.moved for o in outcomes)
        founded_twice += sum(1 for o, c in zip(outcomes, copies, strict=True) if o.decisions[c.id].founded) > 1
        (story,) = stories
        records = StoryStore(es, isolated).records(c.id for c in copies)
        assert {r.story_id for r in records.values()} == {story}  # the shared state agrees with what was emitted
        document = StoryStore(es, isolated).story(story)
        assert document is not None and document["size"] == len(copies)
        assert sorted(document["members"]) == sorted(c.id for c in copies)
    with capsys.disabled():
        print(f"\n{rounds} rounds of copies assigned at once: {moved} founders joined an earlier one on the recheck")
    assert founded_twice == 0  # the founders that raced were resolved before anything was emitted


def test_story_documents_keep_size_and_first_seen_current(isolated: Settings, es: Elasticsearch) -> None:
    grouping, client = _grouping(isolated)
    body = _text(random.Random(5))
    later = _article("late", "报道", body, outlet="a", when=AT + timedelta(hours=2))
    earliest = _article("early", "报道", body + "（转载）", outlet="b", when=AT)
    middle = _article("mid", "报道", body + "（来源：某报）", outlet="c", when=AT + timedelta(hours=1))
    other = _article("other", "别的新闻", _text(random.Random(9)), outlet="a")
    store = StoryStore(es, isolated)
    try:
        first = grouping.assign([later, other])
        assert store.story("late") is None  # a story of one article has no story document
        grouping.assign([earliest])
        document = store.story("late")
        assert document is not None and (document["size"], document["first_seen_id"]) == (2, "early")
        grouping.assign([middle, other])
        grouping.assign([middle])  # redelivered: nothing counts twice
        document = store.story("late")
        assert document is not None and (document["size"], document["first_seen_id"]) == (3, "early")
        assert sorted(document["members"]) == ["early", "late", "mid"]
        assert document["first_seen_at"] == "2024-06-03T02:00:00.000Z"
        assert document["last_seen_at"] == "2024-06-03T04:00:00.000Z"
        assert first.decisions["other"].story_id == "other" and store.story("other") is None
    finally:
        client.close()


def test_pruning_deletes_only_records_published_and_written_before_the_cutoff(
    isolated: Settings, es: Elasticsearch
) -> None:
    store = StoryStore(es, isolated)
    now = datetime.now(UTC).replace(microsecond=0)
    old, cutoff = now - timedelta(days=40), now - timedelta(days=30)
    rng = random.Random(3)

    def record(article_id: str, published: datetime, written: datetime, batch: str) -> None:
        article = _article(article_id, f"标题{article_id}", _text(rng), outlet="a", when=published)
        store.create([(article_fingerprint(article), article_id)], written, "w", batch)

    record("gone", old, old, "b-old")  # published and grouped long ago
    record("backfilled", old, now, "b-new")  # an old article grouped today (a backfill): its copies may follow
    record("fresh", now - timedelta(days=1), old, "b-old")  # published within the retention
    store.mark_checked(["b-old"], old)
    store.mark_checked(["b-new"], now)

    assert store.prune(cutoff, page=1) == 2  # the old record and the old batch mark, a page of one at a time
    assert set(store.records(["gone", "backfilled", "fresh"])) == {"backfilled", "fresh"}
    assert store.checked(["b-old", "b-new"]) == {"b-new"}
    assert store.prune(cutoff) == 0


def test_pruning_before_any_record_exists_deletes_nothing(isolated: Settings) -> None:
    client = search.client(isolated)
    try:
        assert StoryStore(client, isolated).prune(datetime.now(UTC)) == 0
    finally:
        client.close()


def test_a_batch_that_failed_before_its_recheck_is_rechecked_when_seen_again_and_only_then(
    isolated: Settings, es: Elasticsearch
) -> None:
    """Worker 1's first pass missed b (written just after its search) and it failed before its recheck; b's
    own recheck saw nothing earlier. Whoever sees a's batch again finishes the recheck; after that, replays
    keep every story as it is."""
    store = StoryStore(es, isolated)
    body = _text(random.Random(11))
    a, b = (_article(x, "同一报道", body + "（转载）" * n, outlet=x) for n, x in enumerate("ab"))
    now = datetime.now(UTC)
    store.create([(article_fingerprint(b), "b")], now, "w2", "w2.1")  # b first: the earlier story
    store.mark_checked(["w2.1"], now)
    store.create([(article_fingerprint(a), "a")], now, "w1", "w1.1")  # a, founded without seeing b
    grouping, client = _grouping(isolated)
    try:
        retried = grouping.assign([a])
        assert retried.decisions["a"].story_id == "b" and retried.moved == 1
        assert store.checked(["w1.1"]) == {"w1.1"}
        before = store.requests
        replayed, replay_client = _grouping(isolated)
        try:
            again = replayed.assign([a, b])
            assert {d.story_id for d in again.decisions.values()} == {"b"}
            assert again.moved == 0 and replayed.store.requests <= 3  # records, stories: no recheck
        finally:
            replay_client.close()
        assert store.requests == before
    finally:
        client.close()


def _corpus_raw_items() -> list[RawItem]:
    assert CORPUS.is_dir(), f"the real posts are missing: expected them in {CORPUS}"
    items: list[RawItem] = []
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        source = SourceInfo(
            id=folder.name, type=SourceType.JEKYLL, outlet=folder.name, category="corpus", language="zh"
        )
        for path in sorted(folder.glob("*.md")):
            try:
                items.append(jekyll.parse(path.read_bytes(), source, path=path.name, fetched_at=fetched))
            except Exception:  # noqa: BLE001 - posts the parser refuses are not this test's subject
                continue
    return items


def _emitted(settings: Settings) -> list[Article]:
    consumer = kafka.consumer(settings, None, fetch_max_wait_ms=200)
    try:
        partitions = consumer.partitions_for_topic(settings.topic_articles) or set()
        tps = [TopicPartition(settings.topic_articles, p) for p in sorted(partitions)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        articles: list[Article] = []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for batch in consumer.poll(timeout_ms=1000).values():
                articles.extend(Article.model_validate_json(record.value) for record in batch)
        return articles
    finally:
        consumer.close()


def test_replaying_the_raw_topic_gives_the_same_groups(isolated: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    kafka.ensure_topics(isolated)
    items = _corpus_raw_items()
    push_raw(isolated, items)
    first_run = run_normalizer(isolated, until_idle_s=3.0)
    assert first_run.records == len(items)
    first = {a.id: a.story_id for a in _emitted(isolated)}
    # The replay: a new consumer group reads the raw topic from its beginning again.
    replay = isolated.model_copy(update={"group_normalize": f"{isolated.group_normalize}-replay"})
    run_normalizer(replay, until_idle_s=3.0)
    emitted = _emitted(isolated)
    assert len(emitted) == 2 * len(items)
    per_id: dict[str, set[str | None]] = {}
    for article in emitted:
        per_id.setdefault(article.id, set()).add(article.story_id)
    assert all(len(stories) == 1 for stories in per_id.values()), "a replay changed an article's story"
    assert {article_id: stories.pop() for article_id, stories in per_id.items()} == first

    run_indexer(isolated, until_idle_s=3.0)
    es = search.client(isolated)
    es.indices.refresh(index=isolated.index_alias)
    stored = {
        hit["_id"]: hit["_source"]["story_id"]
        for hit in es.search(index=isolated.index_alias, size=1000, source=["story_id"])["hits"]["hits"]
    }
    es.close()
    assert stored == first
    sizes = Counter(first.values())
    by_path = {item.path: item.item_id for item in items}
    labels = Labels.read(LABELS)
    copies = [(by_path.get(a.split("/", 1)[1]), by_path.get(b.split("/", 1)[1])) for a, b in labels.copies]
    grouped = [first[a] == first[b] for a, b in copies if a and b]
    with capsys.disabled():
        print(
            f"\nreplay: {len(items)} raw items, {len(first)} articles, {len(sizes)} stories "
            f"({sum(1 for n in sizes.values() if n > 1)} with copies); labelled copy pairs grouped: "
            f"{sum(grouped)}/{len(grouped)}"
        )
    assert grouped and all(grouped)
