"""Thin adapter around kafka-python: clients built from settings, our errors at the boundary.

Messages are JSON bytes keyed by the article id; headers carry the schema version and source id.
Producers are idempotent with acks=all; consumers never auto-commit.
"""

from __future__ import annotations

import logging
import struct
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
from kafka.coordinator.assignors.sticky.sticky_assignor import StickyPartitionAssignor
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError
from kafka.partitioner import DefaultPartitioner, Partitioner
from pydantic import BaseModel

from pipeline.config import Settings
from pipeline.errors import ConfigError, RetryableError

Headers = list[tuple[str, bytes]]

# Items may be large (a long article with its HTML): allow up to 8 MiB per message end to end.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

ASSIGNORS = {
    "cooperative-sticky": CooperativeStickyAssignor,
    "sticky": StickyPartitionAssignor,
    "range": RangePartitionAssignor,
    "roundrobin": RoundRobinPartitionAssignor,
}


def _common(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers.split(","),
        "security_protocol": settings.kafka_security_protocol,
        "client_id": "newsflow",
        "reconnect_backoff_max_ms": 1000,  # rejoin quickly after a broker restart
    }
    if settings.kafka_ssl_cafile:
        config["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    if settings.kafka_sasl_mechanism:
        config["sasl_mechanism"] = settings.kafka_sasl_mechanism
        config["sasl_plain_username"] = settings.kafka_sasl_username
        config["sasl_plain_password"] = (
            settings.kafka_sasl_password.get_secret_value() if settings.kafka_sasl_password else None
        )
    return config


class _BootstrapFailures(logging.Filter):
    """Notes the reason of each failed bootstrap connection, which kafka-python only logs (as WARNING).

    It sits on kafka-python's connection-manager logger as a filter, so it sees those records even when
    logging is configured to hide them, and lets through only what the configuration would have shown.
    """

    def __init__(self) -> None:
        super().__init__()
        self.shown_from = logging.CRITICAL
        self.last: str | None = None
        self.authentication: str | None = None  # the broker said the credentials are wrong

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Bootstrap connection") and " failed: " in message:
            self.last = message.split(" failed: ", 1)[1].rsplit(" (backoff", 1)[0]
            if "AuthenticationFailed" in self.last:
                self.authentication = self.last
        return record.levelno >= self.shown_from


_MANAGER_LOGGER = "kafka.net.manager"
_listening = threading.Lock()
_listeners = 0
_level_before = logging.NOTSET


@contextmanager
def _connecting(settings: Settings) -> Iterator[None]:
    """Turn a client that cannot bootstrap into our error: wrong credentials are a ConfigError (retrying
    will not help), anything else is a RetryableError; both say what the broker answered."""
    global _listeners, _level_before
    logger = logging.getLogger(_MANAGER_LOGGER)
    failures = _BootstrapFailures()
    with _listening:
        if _listeners == 0:
            _level_before = logger.level
            logger.setLevel(min(logger.getEffectiveLevel(), logging.WARNING))
        parent = logger.parent or logging.getLogger()
        failures.shown_from = _level_before or parent.getEffectiveLevel()  # what the configuration shows
        _listeners += 1
        logger.addFilter(failures)
    try:
        yield
    except KafkaError as exc:
        where = settings.kafka_bootstrap_servers
        if failures.authentication:
            raise ConfigError(
                f"Kafka at {where} refused the credentials of user {settings.kafka_sasl_username!r} "
                f"(NEWSFLOW_KAFKA_SASL_*): {failures.authentication}"
            ) from None
        detail = f" (last error: {failures.last})" if failures.last else ""
        raise RetryableError(f"cannot reach Kafka at {where}: {exc}{detail}") from exc
    finally:
        with _listening:
            logger.removeFilter(failures)
            _listeners -= 1
            if _listeners == 0:
                logger.setLevel(_level_before)


_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
_WORDS: dict[int, Any] = {}


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of a key (as the Java client and kafka-python compute it), four bytes at a time."""
    length = len(data)
    h = 0x9747B28C ^ length
    whole = length >> 2
    unpack = _WORDS.get(whole)
    if unpack is None:
        unpack = _WORDS[whole] = struct.Struct(f"<{whole}I").unpack_from
    for k in unpack(data):
        k = (k * _M) & _MASK
        k = ((k ^ (k >> 24)) * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest:
        base = whole << 2
        if rest == 3:
            h ^= data[base + 2] << 16
        if rest >= 2:
            h ^= data[base + 1] << 8
        h = ((h ^ data[base]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


class KeyPartitioner(Partitioner):  # type: ignore[misc]
    """The default partitioning of keyed messages (murmur2 of the key modulo the partition count, so a key
    lands where the Java client and kafka-python would put it), at half the CPU per message: the hash
    reads four bytes at a time and the partitions are not sorted again for every message. Messages
    without a key go to the default partitioner."""

    def __init__(self) -> None:
        self._default = DefaultPartitioner()

    def partition(
        self, topic: str, key: Any, serialized_key: bytes | None, value: Any, serialized_value: Any, cluster: Any
    ) -> int:
        partitions = cluster.partitions_for_topic(topic)
        if serialized_key is None or not partitions:
            return int(self._default.partition(topic, key, serialized_key, value, serialized_value, cluster))
        count = len(partitions)
        index = (murmur2(serialized_key) & 0x7FFFFFFF) % count
        if max(partitions) == count - 1:  # partitions are numbered 0..n-1, as Kafka numbers them
            return index
        ordered: list[int] = sorted(partitions)
        return ordered[index]


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    config: dict[str, Any] = {
        "partitioner": KeyPartitioner(),
        **_common(settings),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "batch_size": 256 * 1024,
        "max_request_size": MAX_MESSAGE_BYTES,
        "allow_auto_create_topics": False,
        "max_block_ms": 15_000,  # a missing topic or an absent broker surfaces in seconds, not a minute
    }
    config.update(overrides)
    with _connecting(settings):
        return KafkaProducer(**config)


def consumer(settings: Settings, group: str | None, topics: Sequence[str] = (), **overrides: Any) -> KafkaConsumer:
    config: dict[str, Any] = {
        **_common(settings),
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "allow_auto_create_topics": False,
        # Small fetches keep a worker's memory flat; a record larger than these still arrives
        # (the broker always returns at least one record batch).
        "max_partition_fetch_bytes": 1024 * 1024,
        "fetch_max_bytes": 8 * 1024 * 1024,
        "session_timeout_ms": 10_000,
        "heartbeat_interval_ms": 1_000,
        "max_poll_interval_ms": 300_000,
        "partition_assignment_strategy": (ASSIGNORS[settings.kafka_assignment_strategy],),
    }
    config.update(overrides)
    with _connecting(settings):
        return KafkaConsumer(*topics, **config)


@contextmanager
def admin(settings: Settings, timeout_ms: int = 10_000) -> Iterator[KafkaAdminClient]:
    with _connecting(settings):
        client = KafkaAdminClient(**_common(settings), request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)
    try:
        yield client
    finally:
        client.close()


def min_insync_replicas(settings: Settings) -> int:
    """`min.insync.replicas` of our topics: the setting, but at most replication - 1, so that an acks=all
    producer goes on writing while one broker is down (with replication 3: 2)."""
    return max(1, min(settings.topic_min_insync_replicas, settings.topic_replication - 1))


def ensure_topics(settings: Settings, names: Sequence[str] | None = None) -> list[str]:
    """Create our topics if missing (partitions, replication and min.insync.replicas from settings); return
    those created. Topics that exist keep their layout."""
    wanted = list(names or settings.topics)
    created: list[str] = []
    with admin(settings) as client:
        existing = set(client.list_topics())
        for name in (n for n in wanted if n not in existing):
            topic = NewTopic(
                name,
                settings.topic_partitions,
                settings.topic_replication,
                topic_configs={
                    "max.message.bytes": str(MAX_MESSAGE_BYTES),
                    "min.insync.replicas": str(min_insync_replicas(settings)),
                },
            )
            # One request per topic, so a topic that exists after all (another process made it, or the
            # broker's metadata answer lagged behind a creation) is told apart from one created here.
            try:
                client.create_topics([topic], timeout_ms=10_000)
            except TopicAlreadyExistsError:
                continue
            except KafkaError as exc:
                raise RetryableError(f"cannot create topic {name}: {exc}") from exc
            created.append(name)
    return created


def ping(settings: Settings, timeout_ms: int = 3_000) -> bool:
    """True when a broker answers a metadata request."""
    try:
        with admin(settings, timeout_ms) as client:
            client.describe_cluster()
        return True
    except (RetryableError, ConfigError, KafkaError, OSError):
        return False


def headers_for(model: BaseModel, source_id: str | None) -> Headers:
    version = getattr(model, "schema_version", 1)
    headers: Headers = [("schema_version", str(version).encode()), ("schema", type(model).__name__.encode())]
    if source_id:
        headers.append(("source_id", source_id.encode()))
    return headers


def send(
    prod: KafkaProducer, topic: str, key: str, value: bytes, headers: Headers, partition: int | None = None
) -> Any:
    """Queue one message; returns its future. Call `flush(prod)` before acknowledging upstream.
    `partition` overrides the key's partition (the fetch topics group a host's pages on one partition)."""
    try:
        return prod.send(topic, key=key.encode(), value=value, headers=headers, partition=partition)
    except KafkaTimeoutError as exc:
        raise RetryableError(f"Kafka did not accept a message for {topic}: {exc}") from exc


def partition_of(prod: KafkaProducer, topic: str, name: str) -> int:
    """The partition of `topic` that everything named `name` goes to (stable while the partition count is)."""
    try:
        partitions = sorted(prod.partitions_for(topic))
    except KafkaError as exc:
        raise RetryableError(f"no metadata for {topic}: {exc}") from exc
    return int(partitions[zlib.crc32(name.encode("utf-8")) % len(partitions)])


def flush(prod: KafkaProducer, futures: Sequence[Any], timeout_s: float = 60.0) -> None:
    """Wait until every queued message is acknowledged (acks=all), or raise RetryableError."""
    try:
        prod.flush(timeout=timeout_s)
        for future in futures:
            future.get(timeout=timeout_s)
    except KafkaError as exc:
        raise RetryableError(f"Kafka did not acknowledge every message: {exc}") from exc


def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    """The next offset of each partition of `topic` (how many messages it has ever had, per partition)."""
    client = consumer(settings, None)
    try:
        partitions = client.partitions_for_topic(topic) or set()
        offsets = client.end_offsets([TopicPartition(topic, p) for p in sorted(partitions)])
        return {tp.partition: int(offset) for tp, offset in offsets.items()}
    except KafkaError as exc:
        raise RetryableError(f"cannot read the end offsets of {topic}: {exc}") from exc
    finally:
        client.close()


def lag(settings: Settings, group: str, topic: str) -> int:
    """Messages on `topic` that `group` has not committed yet (all of them if it never committed)."""
    ends = end_offsets(settings, topic)
    try:
        with admin(settings) as client:
            committed = client.list_group_offsets(group).get(group, {})
    except KafkaError as exc:
        raise RetryableError(f"cannot read the offsets of group {group}: {exc}") from exc
    done = {tp.partition: meta.offset for tp, meta in committed.items() if tp.topic == topic}
    return sum(end - max(done.get(partition, 0), 0) for partition, end in ends.items())
