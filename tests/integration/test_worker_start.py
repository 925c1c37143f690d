"""A worker started while Kafka cannot be reached (a broker starting or restarting) waits for it instead of
exiting; asked to stop meanwhile, it stops cleanly. One that runs until idle gives up after that long."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import RetryableError
from pipeline.workers.consume import LoopStats, StopFlag
from pipeline.workers.main import run_stage


def _unreachable(tmp_path: Path) -> Settings:
    with socket.socket() as probe:  # a loopback port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return Settings(kafka_bootstrap_servers=f"127.0.0.1:{port}", state_dir=tmp_path / "state")


def test_a_worker_waits_for_kafka_and_stops_cleanly_while_waiting(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stop = StopFlag()
    result: list[LoopStats] = []
    caplog.set_level(logging.WARNING, logger="pipeline.workers.main")
    worker = threading.Thread(target=lambda: result.append(run_stage(_unreachable(tmp_path), "normalize", stop=stop)))
    worker.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "attempt 2" not in caplog.text:
        time.sleep(0.2)
    assert worker.is_alive(), "the worker gave up instead of waiting for Kafka"
    assert "normalize: cannot start yet (attempt 2" in caplog.text
    stop.set()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert result == [LoopStats()]


def test_a_worker_that_runs_until_idle_gives_up(tmp_path: Path) -> None:
    with pytest.raises(RetryableError, match="cannot reach Kafka"):
        run_stage(_unreachable(tmp_path), "normalize", until_idle_s=0.5)
