"""Delivery under faults, on a stack of its own: every raw item ends as exactly one document or
as a dead letter — never lost, never doubled, never stale. Figures are printed for the report."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import RetryableError
from pipeline.stack import es_node, kafka_broker
from tests.faults import items
from tests.faults.invariants import assert_invariant, check, documents, wait_drained
from tests.faults.workers import Workers
from tests.support import stacks

pytestmark = pytest.mark.services


def _push(settings: Settings, count: int, **kwargs: int) -> items.Expected:
    emitter = KafkaEmitter(settings)
    try:
        return items.push(emitter, count, **kwargs)
    finally:
        emitter.close()


def test_kill_9_workers_mid_batch_repeatedly(fault_settings: Settings, tmp_path: Path) -> None:
    settings = fault_settings
    stacks.prepare(settings)
    expected = _push(settings, 4000)
    workers = Workers(settings, tmp_path / "logs")
    workers.start("normalize", 2)
    workers.start("index", 2)
    rng = random.Random(11)
    try:
        for _ in range(12):  # kill -9 a random worker of each kind, while the batch is in flight
            time.sleep(rng.uniform(1.0, 2.5))
            kind = rng.choice(["normalize", "index"])
            workers.kill9(kind, rng.randrange(len(workers.procs[kind])))
        wait_drained(settings)
    finally:
        codes = workers.stop()
    figures = check(settings, search.client(settings), expected)
    print("\n" + figures.line("kill -9", f"{workers.killed} SIGKILLs, 2 workers per group"))
    assert workers.killed >= 10
    assert all(code == 0 for code in codes["normalize"] + codes["index"]), codes  # SIGTERM: clean exits
    assert_invariant(figures, expected)


def test_elasticsearch_down_for_30s_while_items_flow(
    fault_stack: Settings, fault_settings: Settings, tmp_path: Path
) -> None:
    settings = fault_settings
    stacks.prepare(settings)
    expected = _push(settings, 1500, seed=21)
    workers = Workers(settings, tmp_path / "logs")
    workers.start("normalize")
    workers.start("index")
    es = search.client(settings)
    try:
        deadline = time.monotonic() + 60
        while es.count(index=settings.index_alias)["count"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert es_node.process(fault_stack).stop(), "the fault stack's Elasticsearch was not running"
        down_at = time.monotonic()
        more = _push(settings, 500, seed=22, start=100_000)  # items keep flowing while it is down
        time.sleep(max(0.0, 32 - (time.monotonic() - down_at)))
        assert workers.alive() == {"normalize": 1, "index": 1}, "a worker died while Elasticsearch was down"
        outage = time.monotonic() - down_at
        es_node.start(fault_stack)
        wait_drained(settings)
    finally:
        codes = workers.stop()
    expected.versions.update(more.versions)
    expected.invalid |= more.invalid
    expected.raw_messages += more.raw_messages
    figures = check(settings, search.client(settings), expected)
    retries = workers.log_text().count("transient failure")
    print(
        "\n"
        + figures.line(
            "elasticsearch down",
            f"node down for {outage:.0f}s, indexer paused and retried {retries} times",
        )
    )
    assert retries > 0
    assert codes == {"normalize": [0], "index": [0]}
    assert_invariant(figures, expected)


def test_kafka_broker_restart_while_items_flow(fault_stack: Settings, fault_settings: Settings, tmp_path: Path) -> None:
    settings = fault_settings
    stacks.prepare(settings)
    workers = Workers(settings, tmp_path / "logs")
    workers.start("normalize")
    workers.start("index")
    totals = items.Expected()
    stop = threading.Event()

    def produce() -> None:
        batch = 0
        while not stop.is_set() and batch < 40:
            try:
                got = _push(settings, 50, seed=100 + batch, start=batch * 1000)
            except RetryableError:
                time.sleep(1)  # broker away: the same batch is produced again (same ids)
                continue
            totals.versions.update(got.versions)
            totals.invalid |= got.invalid
            totals.raw_messages += got.raw_messages
            batch += 1
            time.sleep(0.2)

    producer = threading.Thread(target=produce)
    producer.start()
    try:
        time.sleep(4)
        assert kafka_broker.process(fault_stack).stop(), "the fault stack's broker was not running"
        time.sleep(3)
        kafka_broker.start(fault_stack)
        producer.join(timeout=240)
        assert not producer.is_alive()
        wait_drained(settings)
        alive = workers.alive()
    finally:
        stop.set()
        codes = workers.stop()
    figures = check(settings, search.client(settings), totals)
    print("\n" + figures.line("kafka restart", "broker stopped for 3s and restarted mid-stream"))
    assert alive == {"normalize": 1, "index": 1}
    assert codes == {"normalize": [0], "index": [0]}
    assert_invariant(figures, totals)


def test_replaying_the_whole_raw_topic_changes_nothing(fault_settings: Settings, tmp_path: Path) -> None:
    settings = fault_settings
    stacks.prepare(settings)
    expected = _push(settings, 1200, seed=31)
    workers = Workers(settings, tmp_path / "logs")
    workers.start("normalize")
    workers.start("index")
    try:
        wait_drained(settings)
    finally:
        workers.stop()
    es = search.client(settings)
    first = check(settings, es, expected)
    versions = {i: doc["version"] for i, doc in documents(es, settings.index_alias).items()}

    # Offset reset: the normalizer group starts again from the beginning of the raw topic,
    # so older revisions of updated stories arrive again after their newer ones.
    with kafka.admin(settings) as admin:
        admin.delete_groups([settings.group_normalize])
    workers = Workers(settings, tmp_path / "logs-replay")
    workers.start("normalize")
    workers.start("index")
    try:
        wait_drained(settings)
    finally:
        codes = workers.stop()
    figures = check(settings, es, expected)
    after = {i: doc["version"] for i, doc in documents(es, settings.index_alias).items()}
    print("\n" + figures.line("replay", f"raw topic replayed from offset 0 ({expected.raw_messages} messages again)"))
    assert codes == {"normalize": [0], "index": [0]}
    assert after == versions  # nothing overwritten by an older copy
    assert figures.dead_letters == 2 * first.dead_letters  # replayed invalid items are dead-lettered again
    assert_invariant(figures, expected)
