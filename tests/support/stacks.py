"""Settings for stacks of tests' own (other ports, own state dir) and for one test's run on a stack: topics,
consumer groups and index named for that run only, so runs never see each other's data.

The services' clients are imported where they are used: the unit tests load this module too (through the
top conftest) and need none of them."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from schemas.models import Article, RawItem


def own_stack(base: Settings, state_subdir: str, port_offset: int, **changes: Any) -> Settings:
    """`base` moved to ports `port_offset` above its own and a state dir of its own below base's."""
    kafka_host, kafka_port = base.kafka_host_port
    es_host, es_port = base.es_host_port
    return base.model_copy(
        update={
            "state_dir": base.state_dir.resolve() / state_subdir,
            "kafka_bootstrap_servers": f"{kafka_host}:{kafka_port + port_offset}",
            "es_url": f"http://{es_host}:{es_port + port_offset}",
            **changes,
        }
    )


def reset(settings: Settings, services: tuple[str, ...]) -> None:
    """Stop `services` of this state dir and delete its data: earlier runs' topics and indices only slow
    recovery down."""
    from pipeline.stack import manager

    manager.down(settings, report=lambda line: None, only=services)
    shutil.rmtree(settings.state_dir, ignore_errors=True)


def run_names(prefix: str, *, fetch: bool = False) -> dict[str, str]:
    """Topic, group and index names of one run (`prefix` tells whose run it is in a listing of the stack);
    with `fetch`, those of the article-fetch stage and the page index too."""
    run = f"{prefix}{uuid.uuid4().hex[:10]}"
    names = {
        "topic_raw": f"{run}.news.raw",
        "topic_articles": f"{run}.news.articles",
        "topic_deadletter": f"{run}.news.deadletter",
        "group_normalize": f"{run}-normalize",
        "group_index": f"{run}-index",
        "index_alias": f"{run}-news-articles",
    }
    if fetch:
        names |= {
            "topic_fetch": f"{run}.news.fetch",
            "topic_fetch_retry": f"{run}.news.fetch.retry",
            "group_fetch": f"{run}-fetch",
            "page_index": f"{run}-news-pages",
        }
    return names


def flow_run(stack: Settings, prefix: str, tmp_path: Path) -> Settings:
    """One test's run of items through the normalize and index workers: its own names, six partitions,
    batches of 100."""
    return stack.model_copy(
        update={
            **run_names(prefix),
            "state_dir": tmp_path / "state",
            "topic_partitions": 6,
            "normalize_batch_size": 100,
            "index_batch_size": 100,
        }
    )


def prepare(settings: Settings) -> None:
    """The run's topics and index, created."""
    from pipeline import kafka, search

    kafka.ensure_topics(settings)
    search.ensure_index(search.client(settings), settings)


def index_articles(settings: Settings, articles: Sequence[Article]) -> None:
    """`articles` written to the run's alias (its index created first) and searchable; every one accepted."""
    from pipeline import search

    es = search.client(settings)
    search.ensure_index(es, settings)
    written = search.bulk_index(es, articles, settings.index_alias)
    assert (written.ok, written.dead) == (len(articles), [])
    es.indices.refresh(index=settings.index_alias)
    es.close()


def push_raw(settings: Settings, items: Sequence[RawItem]) -> None:
    """`items` produced to the run's raw topic and flushed, in order."""
    from pipeline.emit import KafkaEmitter

    emitter = KafkaEmitter(settings)
    try:
        for item in items:
            emitter.raw(item)
        emitter.flush()
    finally:
        emitter.close()
