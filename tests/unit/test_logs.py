"""Log lines: one JSON object per line off a terminal, readable text on one; context fields; no secrets."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from pipeline import logs
from pipeline.errors import ParseError
from pipeline.tasks import failure_reason


def _record(message: str, *args: object, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.getLogger("newsflow.test").makeRecord(
        "newsflow.test", level, __file__, 1, message, args, None, extra=extra or None
    )
    record.created = 1_700_000_000.25
    return record


def test_json_line_has_the_keys_and_the_context_given() -> None:
    line = logs.JsonFormatter().format(
        _record("pushed %d items", 3, source_id="21jingji-feed", item_id="abc123", topic="news.raw")
    )
    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "2023-11-14T22:13:20.250+00:00",
        "level": "INFO",
        "logger": "newsflow.test",
        "event": "pushed 3 items",
        "source_id": "21jingji-feed",
        "item_id": "abc123",
        "topic": "news.raw",
    }


def test_json_line_leaves_out_context_not_given_and_keeps_chinese_readable() -> None:
    event = json.loads(logs.JsonFormatter().format(_record("跨境电商 %s", "综试区", level=logging.WARNING)))
    assert event["event"] == "跨境电商 综试区" and event["level"] == "WARNING"
    assert not set(event) & {"source_id", "item_id", "topic", "exc"}


def test_an_exception_stays_on_the_same_line() -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: bad value" in json.loads(line)["exc"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("fetch http://user:s3cret@example.com/feed failed", "fetch http://***@example.com/feed failed"),
        ("sasl_ssl://svc:pw@broker:9093 and https://a:b@c.d/x", "sasl_ssl://***@broker:9093 and https://***@c.d/x"),
        ("https://example.com/a@b?x=1", "https://example.com/a@b?x=1"),  # an @ in the path is not a login
        ("mail me at someone@example.com", "mail me at someone@example.com"),
    ],
)
def test_credentials_in_urls_are_masked(text: str, masked: str) -> None:
    assert logs.mask(text) == masked
    assert json.loads(logs.JsonFormatter().format(_record("%s", text)))["event"] == masked
    assert logs.HumanFormatter().format(_record("%s", text)).endswith(masked)


def test_human_line_shows_context_after_the_message() -> None:
    line = logs.HumanFormatter().format(_record("poll of %s failed", "x", source_id="x"))
    assert line.endswith("INFO newsflow.test: poll of x failed  [source_id=x]")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "is_json"), [(io.StringIO(), True), (_Tty(), False)])
def test_configure_picks_the_format_by_where_lines_go(stream: io.StringIO, is_json: bool) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        logs.configure(stream=stream)
        logging.getLogger("newsflow.test").info("hello", extra={"source_id": "s1"})
        logging.getLogger("kafka.conn").warning("reconnecting")  # quiet below CRITICAL unless verbose
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("kafka").setLevel(logging.NOTSET)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    if is_json:
        assert json.loads(lines[0])["source_id"] == "s1"
    else:
        assert lines[0].endswith("hello  [source_id=s1]")


def test_failure_reason_is_one_line_without_secrets() -> None:
    assert failure_reason(ParseError("malformed rss feed:\n  line 2")) == "malformed rss feed: line 2"
    reason = failure_reason(OSError("cannot open http://u:pw@host/x"))
    assert reason == "OSError: cannot open http://***@host/x"
