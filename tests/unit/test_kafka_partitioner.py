"""Our key partitioner puts every key where kafka-python's default partitioner (and the Java client) would."""

from __future__ import annotations

import random

import pytest
from kafka.partitioner.default import DefaultPartitioner
from kafka.partitioner.default import murmur2 as reference

from pipeline.kafka import KeyPartitioner, murmur2


def test_murmur2_matches_kafka_pythons_for_every_length() -> None:
    rng = random.Random(13)
    for length in range(0, 80):
        for _ in range(50):
            key = bytes(rng.randrange(256) for _ in range(length))
            assert murmur2(key) == reference(key), key


@pytest.mark.parametrize(("key", "expected"), [(b"21", -973932308 & 0xFFFFFFFF), (b"", 275646681)])
def test_murmur2_known_values(key: bytes, expected: int) -> None:
    # The Java client's Utils.murmur2 test vectors (as unsigned 32-bit values).
    assert murmur2(key) == expected


class _Cluster:
    def __init__(self, partitions: set[int]) -> None:
        self._partitions = partitions

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self._partitions


@pytest.mark.parametrize("partitions", [set(range(6)), set(range(1)), {0, 2, 5, 7}])
def test_same_partition_as_the_default(partitions: set[int]) -> None:
    ours, theirs, cluster = KeyPartitioner(), DefaultPartitioner(), _Cluster(partitions)
    for n in range(2000):
        key = f"{n:032x}".encode()
        assert ours.partition("t", key, key, None, b"v", cluster) == theirs.partition(
            "t", key, key, None, b"v", cluster
        )


def test_messages_without_a_key_go_anywhere_valid() -> None:
    cluster = _Cluster(set(range(6)))
    assert {KeyPartitioner().partition("t", None, None, None, b"v", cluster) for _ in range(200)} <= set(range(6))
