"""Inspect and replay dead letters (`newsflow deadletter list | replay`).

Replay sends each selected letter's original payload back to the stage that failed it, so
it runs again once the cause is fixed: fetch-stage letters go back to the fetch topic (as a fresh request:
attempts and due time reset), normalize-stage letters to the raw topic, index-stage letters to the articles
topic, and poll-stage letters re-poll their source.
Replaying is safe to repeat: downstream writes are idempotent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from kafka import TopicPartition
from pydantic import ValidationError

from pipeline import kafka
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from schemas.models import DeadLetter, FetchRequest, Stage


def read(settings: Settings, *, stage: Stage | None = None, since: datetime | None = None) -> Iterator[DeadLetter]:
    """Every dead letter currently on the topic (oldest first per partition), filtered."""
    ends = kafka.end_offsets(settings, settings.topic_deadletter)
    if not any(ends.values()):
        return
    consumer = kafka.consumer(settings, None)
    try:
        partitions = [TopicPartition(settings.topic_deadletter, p) for p in ends]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        remaining = {tp.partition for tp in partitions if ends[tp.partition] > 0}
        while remaining:
            polled = consumer.poll(timeout_ms=2_000, max_records=1_000)
            if not polled:
                break
            for tp, records in polled.items():
                for record in records:
                    if record.offset >= ends[tp.partition] - 1:
                        remaining.discard(tp.partition)
                    try:
                        letter = DeadLetter.model_validate_json(record.value)
                    except ValidationError:
                        continue
                    if stage and letter.stage is not stage:
                        continue
                    if since and letter.failed_at < since:
                        continue
                    yield letter
    finally:
        consumer.close()


def line(letter: DeadLetter) -> str:
    where = letter.source_id or "-"
    message = letter.error_message.replace("\n", " ")
    if len(message) > 160:
        message = message[:159] + "…"
    return (
        f"{letter.failed_at.isoformat(timespec='seconds')}  {letter.stage.value:<9} {letter.error_type:<22} "
        f"{where:<20} {letter.item_id or '-':<34} {message}"
    )


@dataclass
class ReplayReport:
    raw: int = 0
    articles: int = 0
    fetches: int = 0
    sources: set[str] = field(default_factory=set)
    skipped: int = 0


def replay(settings: Settings, letters: Iterator[DeadLetter]) -> ReplayReport:
    """Send letters back to the stage that failed them; returns what was sent where."""
    report = ReplayReport()
    emitter = KafkaEmitter(settings)
    try:
        for letter in letters:
            payload = (
                base64.b64decode(letter.payload) if letter.payload_encoding == "base64" else letter.payload.encode()
            )
            key = letter.item_id or _key_from(payload)
            if letter.stage is Stage.FETCH:
                try:
                    request = FetchRequest.model_validate_json(payload)
                except ValidationError:
                    report.skipped += 1
                    continue
                emitter.fetch(request.model_copy(update={"attempt": 0, "not_before": None, "last_error": None}))
                report.fetches += 1
            elif letter.stage is Stage.NORMALIZE and key:
                emitter.send_bytes(settings.topic_raw, key, payload, letter.source_id)
                report.raw += 1
            elif letter.stage is Stage.INDEX and key:
                emitter.send_bytes(settings.topic_articles, key, payload, letter.source_id)
                report.articles += 1
            elif letter.stage is Stage.POLL and letter.source_id:
                report.sources.add(letter.source_id)
            else:
                report.skipped += 1
        emitter.flush()
    finally:
        emitter.close()
    return report


def _key_from(payload: bytes) -> str | None:
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if isinstance(data, dict):
        value = data.get("item_id") or data.get("id")
        return str(value) if value else None
    return None
