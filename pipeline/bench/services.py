"""The services' ceilings, without our workers: Elasticsearch bulk loading, Kafka produce and consume."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from elasticsearch.helpers import parallel_bulk
from kafka import TopicPartition

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.errors import RetryableError
from schemas.models import Article

ES_CHUNK_BYTES = 16 * 1024 * 1024
CONSUME_MAX_RECORDS = 2000
CONSUME_STALL_S = 60.0


@dataclass
class EsCeiling:
    docs: int
    ok: int
    failed: int
    load_s: float  # bulk requests, with refresh off
    searchable_s: float  # load, refresh_interval restored and a refresh: every document searchable
    count: int
    threads: int
    chunk_docs: int

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.searchable_s if self.searchable_s > 0 else 0.0

    @property
    def load_docs_per_s(self) -> float:
        return self.docs / self.load_s if self.load_s > 0 else 0.0


@dataclass
class KafkaCeiling:
    messages: int
    bytes: int
    produce_s: float  # send every message and wait for every ack (acks=all)
    consume_s: float  # read them all back from the beginning
    produce_cpu_s: float  # this process's CPU time while producing (kafka-python is pure Python)
    consume_cpu_s: float

    @property
    def produce_cpu_ms(self) -> float:
        """Client CPU per message produced."""
        return 1000 * self.produce_cpu_s / self.messages if self.messages else 0.0

    @property
    def consume_cpu_ms(self) -> float:
        return 1000 * self.consume_cpu_s / self.messages if self.messages else 0.0

    @property
    def produce_msgs_per_s(self) -> float:
        return self.messages / self.produce_s if self.produce_s > 0 else 0.0

    @property
    def consume_msgs_per_s(self) -> float:
        return self.messages / self.consume_s if self.consume_s > 0 else 0.0

    @property
    def produce_mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.produce_s if self.produce_s > 0 else 0.0

    @property
    def consume_mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.consume_s if self.consume_s > 0 else 0.0


def es_ceiling(settings: Settings, articles: Sequence[Article], *, threads: int, chunk_docs: int) -> EsCeiling:
    """Bulk-load already-normalized articles into a fresh index: `threads` parallel requests, refresh off."""
    es = search.client(settings, timeout_s=120.0)
    try:
        index = search.ensure_index(es, settings)
        before = es.indices.get_settings(index=index, name="index.refresh_interval", include_defaults=True)
        flat = before[index].get("settings") or before[index].get("defaults") or {}
        refresh = str(flat.get("index", {}).get("refresh_interval", "1s"))
        prepared = list(search.bulk_actions(articles, index))  # serialized before the clock starts
        es.indices.put_settings(index=index, settings={"index": {"refresh_interval": "-1"}})
        ok = failed = 0
        start = time.perf_counter()
        for success, info in parallel_bulk(
            es,
            prepared,
            thread_count=threads,
            chunk_size=chunk_docs,
            max_chunk_bytes=ES_CHUNK_BYTES,
            raise_on_error=False,
            raise_on_exception=False,
        ):
            # A 409 is an older copy of a document already stored (a re-delivery): the worker counts it as done.
            if success or info.get("index", {}).get("status") == 409:
                ok += 1
            else:
                failed += 1
        loaded = time.perf_counter()
        es.indices.put_settings(index=index, settings={"index": {"refresh_interval": refresh}})
        es.indices.refresh(index=index)
        searchable = time.perf_counter()
        count = int(es.count(index=index)["count"])
    finally:
        es.close()
    return EsCeiling(len(articles), ok, failed, loaded - start, searchable - start, count, threads, chunk_docs)


BULK_SERIALIZATION_CHUNK = 500


def bulk_serialization_ms(articles: Sequence[Article]) -> float:
    """CPU per document of building the index worker's bulk request bodies (`search.bulk_body`) from the
    article messages, in requests of `BULK_SERIALIZATION_CHUNK` documents, as the worker sends them."""
    documents = [search.Document(a.id, a.version, a.__pydantic_serializer__.to_json(a)) for a in articles]
    if not documents:
        return 0.0
    start = time.process_time()
    for n in range(0, len(documents), BULK_SERIALIZATION_CHUNK):
        search.bulk_body(documents[n : n + BULK_SERIALIZATION_CHUNK], "news-articles-v1")
    return 1000 * (time.process_time() - start) / len(documents)


def kafka_ceiling(settings: Settings, messages: Sequence[tuple[bytes, bytes, kafka.Headers]]) -> KafkaCeiling:
    """Produce (key, value, headers) messages to the raw topic with our producer settings, then read them back."""
    kafka.ensure_topics(settings, [settings.topic_raw])
    size = sum(len(key) + len(value) for key, value, _ in messages)
    producer = kafka.producer(settings)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        futures = [producer.send(settings.topic_raw, key=k, value=v, headers=h) for k, v, h in messages]
        kafka.flush(producer, futures)
        produce_s, produce_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    finally:
        producer.close(timeout=10)
    consume_s, consume_cpu_s = _consume_all(settings, len(messages))
    return KafkaCeiling(len(messages), size, produce_s, consume_s, produce_cpu_s, consume_cpu_s)


def _consume_all(settings: Settings, expected: int) -> tuple[float, float]:
    """Seconds and CPU seconds to read `expected` messages of the raw topic from the start (no group, no rebalance)."""
    consumer = kafka.consumer(settings, None, max_poll_records=CONSUME_MAX_RECORDS)
    try:
        partitions = [
            TopicPartition(settings.topic_raw, p)
            for p in sorted(consumer.partitions_for_topic(settings.topic_raw) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        seen = 0
        start = last = time.perf_counter()
        cpu = time.process_time()
        while seen < expected:
            polled = consumer.poll(timeout_ms=1000, max_records=CONSUME_MAX_RECORDS)
            got = sum(len(batch) for batch in polled.values())
            now = time.perf_counter()
            if got:
                seen += got
                last = now
            elif now - last > CONSUME_STALL_S:
                raise RetryableError(f"read {seen} of {expected} messages of {settings.topic_raw}, then nothing")
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        consumer.close(autocommit=False)
