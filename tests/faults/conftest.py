"""A stack of its own for fault tests (Kafka and Elasticsearch on other ports, own state dir),
so stopping and restarting services never disturbs the main stack or other tests."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.stack import manager

FAULT_SERVICES = ("kafka", "elasticsearch")


@pytest.fixture(scope="session")
def fault_stack(base_settings: Settings) -> Iterator[Settings]:
    kafka_host, kafka_port = base_settings.kafka_host_port
    es_host, es_port = base_settings.es_host_port
    settings = base_settings.model_copy(
        update={
            "state_dir": base_settings.state_dir.resolve() / "faults",
            "kafka_bootstrap_servers": f"{kafka_host}:{kafka_port + 10000}",
            "es_url": f"http://{es_host}:{es_port + 10000}",
        }
    )
    # Start from empty data every session: earlier runs' topics and indices only slow recovery down.
    manager.down(settings, report=lambda line: None, only=FAULT_SERVICES)
    shutil.rmtree(settings.state_dir, ignore_errors=True)
    manager.up(settings, report=lambda line: print(f"[fault stack] {line}"), only=FAULT_SERVICES)
    yield settings
    manager.down(settings, report=lambda line: print(f"[fault stack] {line}"), only=FAULT_SERVICES)


@pytest.fixture
def fault_settings(fault_stack: Settings, tmp_path: Path) -> Settings:
    run = uuid.uuid4().hex[:10]
    return fault_stack.model_copy(
        update={
            "topic_raw": f"f{run}.news.raw",
            "topic_articles": f"f{run}.news.articles",
            "topic_deadletter": f"f{run}.news.deadletter",
            "group_normalize": f"f{run}-normalize",
            "group_index": f"f{run}-index",
            "index_alias": f"f{run}-news-articles",
            "state_dir": tmp_path / "state",
            "topic_partitions": 6,
            "normalize_batch_size": 100,
            "index_batch_size": 100,
        }
    )
