"""Where polls and workers send their output: Kafka, or nowhere (dry runs)."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlsplit

from pydantic import BaseModel

from pipeline import kafka
from pipeline.config import Settings
from schemas.models import Article, DeadLetter, FetchRequest, RawItem


def page_host(request: FetchRequest) -> str:
    """What the fetch topics are partitioned by: the host of the item's link."""
    return (urlsplit(request.item.url or "").hostname or "").lower()


class Emitter(Protocol):
    def raw(self, item: RawItem) -> None: ...
    def fetch(self, request: FetchRequest, *, retry: bool = False) -> None:
        """A request for the item's page: on the fetch topic, or (`retry`) on the retry topic."""

    def article(self, article: Article) -> None: ...
    def dead(self, letter: DeadLetter) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


def to_json(model: BaseModel) -> bytes:
    """The model's JSON as bytes, straight from pydantic-core (`model_dump_json()` builds a str from these bytes,
    which would then be encoded back: about half the cost of serializing an article)."""
    return model.__pydantic_serializer__.to_json(model)


class KafkaEmitter:
    """Queues messages on an idempotent acks=all producer; `flush` waits for every ack."""

    def __init__(self, settings: Settings, producer: Any | None = None) -> None:
        self.settings = settings
        self._producer = producer or kafka.producer(settings)
        self._futures: list[Any] = []
        self.counts = {"raw": 0, "article": 0, "dead": 0, "fetch": 0, "retry": 0}

    def _send(
        self, topic: str, key: str, value: bytes, headers: kafka.Headers, kind: str, partition: int | None = None
    ) -> None:
        self._futures.append(kafka.send(self._producer, topic, key, value, headers, partition))
        self.counts[kind] += 1

    def raw(self, item: RawItem) -> None:
        self._send(
            self.settings.topic_raw,
            item.item_id,
            to_json(item),
            kafka.headers_for(item, item.source.id),
            "raw",
        )

    def fetch(self, request: FetchRequest, *, retry: bool = False) -> None:
        topic = self.settings.topic_fetch_retry if retry else self.settings.topic_fetch
        self._send(
            topic,
            request.item.item_id,
            request.model_dump_json().encode(),
            kafka.headers_for(request, request.item.source.id),
            "retry" if retry else "fetch",
            kafka.partition_of(self._producer, topic, page_host(request)),
        )

    def article(self, article: Article) -> None:
        self._send(
            self.settings.topic_articles,
            article.id,
            to_json(article),
            kafka.headers_for(article, article.source_id),
            "article",
        )

    def dead(self, letter: DeadLetter) -> None:
        key = letter.item_id or letter.source_id or "unknown"
        self._send(
            self.settings.topic_deadletter,
            key,
            to_json(letter),
            kafka.headers_for(letter, letter.source_id),
            "dead",
        )

    def send_bytes(self, topic: str, key: str, value: bytes, source_id: str | None) -> None:
        """Re-send a payload as it was (dead-letter replay)."""
        headers: kafka.Headers = [("replayed", b"1")]
        if source_id:
            headers.append(("source_id", source_id.encode()))
        self._futures.append(kafka.send(self._producer, topic, key, value, headers))

    def flush(self) -> None:
        futures, self._futures = self._futures, []
        kafka.flush(self._producer, futures)

    def close(self) -> None:
        self._producer.close(timeout=10)


class DryRunEmitter:
    """Collects what would have been sent."""

    def __init__(self) -> None:
        self.raws: list[RawItem] = []
        self.fetches: list[FetchRequest] = []
        self.articles: list[Article] = []
        self.deads: list[DeadLetter] = []

    def raw(self, item: RawItem) -> None:
        self.raws.append(item)

    def fetch(self, request: FetchRequest, *, retry: bool = False) -> None:
        self.fetches.append(request)

    def article(self, article: Article) -> None:
        self.articles.append(article)

    def dead(self, letter: DeadLetter) -> None:
        self.deads.append(letter)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
