"""Logging for the `newsflow` command: one event per line, JSON unless stderr is a terminal.

JSON lines carry `ts`, `level`, `logger`, `event`, and `source_id` / `item_id` / `topic` /
`partition` / `offset` when the call passed them with `extra=`; an exception adds `exc`.
Credentials written into URLs (`scheme://user:secret@host`) are masked in every line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

CONTEXT_KEYS = ("source_id", "item_id", "topic", "partition", "offset")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/\s?#@]+@")
# Their connection retries are noise at INFO; our own errors say what failed.
NOISY = {"kafka": logging.CRITICAL, "elastic_transport": logging.ERROR}


def mask(text: str) -> str:
    """`text` with the user-info part of any URL replaced by `***@`."""
    return _URL_CREDENTIALS.sub("***@", text)


def _context(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key in CONTEXT_KEYS if (value := getattr(record, key, None)) is not None}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": mask(record.getMessage()),
            **_context(record),
        }
        if record.exc_info:
            event["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(event, ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """`time LEVEL logger: message [key=value ...]`, for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{key}={value}" for key, value in _context(record).items())
        if context:
            head, newline, rest = line.partition("\n")  # keep a traceback below the first line
            line = f"{head}  [{context}]{newline}{rest}"
        return mask(line)


def configure(*, verbose: bool = False, stream: TextIO | None = None) -> None:
    """Send every log record to `stream` (stderr), formatted for where it goes. Call once, at the edge."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(HumanFormatter() if _is_terminal(stream) else JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for name, level in NOISY.items():
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else level)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
