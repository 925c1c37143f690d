"""Building dead-letter records (pure)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any, Literal

from pipeline.config import PIPELINE_VERSION
from schemas.models import DeadLetter, Stage

# A dead letter keeps the original payload, but not a whole oversized file.
MAX_PAYLOAD_BYTES = 1024 * 1024


def dead_letter(
    stage: Stage,
    error_type: str,
    message: str,
    payload: bytes | str,
    *,
    source_id: str | None = None,
    item_id: str | None = None,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> DeadLetter:
    raw = payload.encode() if isinstance(payload, str) else payload
    extra = dict(details or {})
    if len(raw) > MAX_PAYLOAD_BYTES:
        extra["payload_truncated_from"] = len(raw)
        raw = raw[:MAX_PAYLOAD_BYTES]
    encoding: Literal["utf-8", "base64"] = "utf-8"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(raw).decode("ascii"), "base64"
    return DeadLetter(
        stage=stage,
        error_type=error_type,
        error_message=message,
        source_id=source_id,
        item_id=item_id,
        topic=topic,
        partition=partition,
        offset=offset,
        payload=text,
        payload_encoding=encoding,
        failed_at=now or datetime.now(UTC),
        pipeline_version=PIPELINE_VERSION,
        details=extra,
    )


def original_payload(letter: DeadLetter) -> bytes:
    if letter.payload_encoding == "base64":
        return base64.b64decode(letter.payload)
    return letter.payload.encode("utf-8")
