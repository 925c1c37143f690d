"""`newsflow stack up | status | down` as an operator runs them. Runs last: it stops the stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.stack import manager

pytestmark = pytest.mark.services


def _newsflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "newsflow"), *args], capture_output=True, text=True, timeout=900, check=False
    )


def _our_processes(settings: Settings) -> list[str]:
    """Processes of this stack: command line or environment pointing at one of its service homes
    (other stacks, like the fault tests' one under `<state>/faults`, do not count)."""
    state = settings.state_dir.resolve()
    markers = [str(state / name).encode() + b"\0" for name in ("kafka", "elasticsearch")]
    markers += [str(state / "kafka" / "server.properties").encode(), f"AIRFLOW_HOME={state / 'airflow'}\0".encode()]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + b"\0" + (entry / "environ").read_bytes() + b"\0"
            state_code = (entry / "stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state_code != "Z" and any(marker in seen for marker in markers):
            printable = seen.replace(b"\0", b" ")[:120].decode(errors="replace")
            found.append(f"{entry.name}: {printable}")
    return found


def test_up_twice_status_then_down_leaves_nothing_running(stack: Settings, stack_was_up: bool) -> None:
    first = _newsflow("stack", "up")
    assert first.returncode == 0, first.stderr
    second = _newsflow("stack", "up")
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("already up") == 3  # nothing restarted

    status = _newsflow("stack", "status")
    lines = status.stdout.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["kafka", "up"], ["elasticsearch", "up"], ["airflow", "up"]]
    assert "127.0.0.1:9092" in lines[0] and " 4." in lines[0]
    assert "127.0.0.1:9200" in lines[1] and " 8." in lines[1]
    assert "127.0.0.1:8080" in lines[2] and "login admin" in lines[2]

    assert _our_processes(stack), "expected the stack's processes to be visible"
    down = _newsflow("stack", "down")
    assert down.returncode == 0, down.stderr
    assert _our_processes(stack) == []
    assert not manager.all_up(stack)
    status = _newsflow("stack", "status")
    assert [line.split()[1] for line in status.stdout.strip().splitlines()] == ["down", "down", "down"]

    if stack_was_up:  # leave the stack as the session found it
        again = _newsflow("stack", "up")
        assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
