"""A command that cannot reach a service says which one, where, and what to check: one line, exit 1."""

from __future__ import annotations

import socket

import pytest

from pipeline import cli
from pipeline.config import Settings


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_elasticsearch_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("NEWSFLOW_ES_URL", url)

    code = cli.main(["eval", "stories"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"newsflow: error: Elasticsearch at {url} is not reachable")
    assert "newsflow stack status" in err
    assert "Traceback" not in err


def test_other_errors_still_raise() -> None:
    class Boom(Exception):
        pass

    assert cli._unreachable(Boom("no"), Settings()) is None


def test_story_records_are_kept_at_least_the_window(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stories", "prune", "--older-than-days", "2"]) == 1
    assert "shorter than the story window (7 days)" in capsys.readouterr().err


def test_retention_setting_shorter_than_the_window_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSFLOW_STORY_RECORD_RETENTION_DAYS", "3")
    assert cli.main(["stories", "prune"]) == 1
    err = capsys.readouterr().err
    assert "NEWSFLOW_STORY_RECORD_RETENTION_DAYS" in err and "shorter than the story window" in err
