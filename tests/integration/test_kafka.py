"""The Kafka adapter against the real broker of the local stack."""

from __future__ import annotations

from collections import defaultdict

import pytest

from pipeline import kafka
from pipeline.config import Settings

pytestmark = pytest.mark.services


def test_topic_with_three_partitions_keeps_keys_values_and_order(isolated: Settings) -> None:
    settings = isolated.model_copy(update={"topic_partitions": 3})
    created = kafka.ensure_topics(settings, [settings.topic_raw])
    assert created == [settings.topic_raw]
    assert kafka.ensure_topics(settings, [settings.topic_raw]) == []  # idempotent

    with kafka.admin(settings) as admin:
        described = admin.describe_topics([settings.topic_raw])
    assert len(described[0]["partitions"]) == 3

    producer = kafka.producer(settings)
    sent: dict[str, list[int]] = defaultdict(list)
    futures = []
    for n in range(1000):
        key = f"key-{n % 37}"
        sent[key].append(n)
        futures.append(kafka.send(producer, settings.topic_raw, key, f"{key}:{n}".encode(), [("n", str(n).encode())]))
    kafka.flush(producer, futures)
    partitions_used = {f.get(timeout=10).partition for f in futures}
    producer.close()
    assert partitions_used == {0, 1, 2}

    consumer = kafka.consumer(settings, settings.group_normalize, [settings.topic_raw], consumer_timeout_ms=10_000)
    received: dict[str, list[int]] = defaultdict(list)
    per_partition: dict[int, list[int]] = defaultdict(list)
    key_partition: dict[str, int] = {}
    count = 0
    for record in consumer:
        key = record.key.decode()
        key_text, n_text = record.value.decode().split(":")
        assert key_text == key
        assert dict(record.headers)["n"] == n_text.encode()
        received[key].append(int(n_text))
        per_partition[record.partition].append(record.offset)
        assert key_partition.setdefault(key, record.partition) == record.partition  # a key sticks to a partition
        count += 1
        if count == 1000:
            break
    consumer.commit()
    consumer.close()

    assert count == 1000
    assert received == sent  # every message, and per key in the order produced
    for offsets in per_partition.values():
        assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)

    again = kafka.consumer(settings, settings.group_normalize, [settings.topic_raw], consumer_timeout_ms=3_000)
    assert list(again) == []  # the group's committed offsets hold
    again.close()


def test_topics_are_not_created_by_producing(isolated: Settings) -> None:
    producer = kafka.producer(isolated, max_block_ms=3_000)
    with pytest.raises(Exception):  # noqa: B017 - kafka-python raises its timeout error here
        producer.send("never-created-" + isolated.topic_raw, b"x").get(timeout=5)
    producer.close()
    with kafka.admin(isolated) as admin:
        assert "never-created-" + isolated.topic_raw not in admin.list_topics()
