"""A stack of its own for fault tests (Kafka and Elasticsearch on other ports, own state dir),
so stopping and restarting services never disturbs the main stack or other tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.stack import manager
from tests.support import stacks

FAULT_SERVICES = ("kafka", "elasticsearch")


@pytest.fixture(scope="session")
def fault_stack(base_settings: Settings) -> Iterator[Settings]:
    settings = stacks.own_stack(base_settings, "faults", 10000)
    stacks.reset(settings, FAULT_SERVICES)
    manager.up(settings, report=lambda line: print(f"[fault stack] {line}"), only=FAULT_SERVICES)
    yield settings
    manager.down(settings, report=lambda line: print(f"[fault stack] {line}"), only=FAULT_SERVICES)


@pytest.fixture
def fault_settings(fault_stack: Settings, tmp_path: Path) -> Settings:
    return stacks.flow_run(fault_stack, "f", tmp_path)
