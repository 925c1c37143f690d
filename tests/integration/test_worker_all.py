"""`newsflow worker all`: every stage of the table in one process, on the real broker and index, until idle."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.normalize.ids import fingerprint, id_from_url
from pipeline.workers.main import run_all
from schemas.models import RawItem, SourceInfo, SourceType
from tests.support.stacks import push_raw

pytestmark = pytest.mark.services

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")
SOURCE = SourceInfo(id="all-test", type=SourceType.FEED, outlet="Test Wire", category="business")


def _raw(n: int) -> RawItem:
    url = f"https://wire.example/story-{n}"
    body = f"<p>Story number {n} about harbour trade, with a full paragraph of text.</p>"
    return RawItem(
        item_id=id_from_url(url),
        source=SOURCE,
        fetched_at=datetime(2024, 6, 3, 8, tzinfo=UTC),
        url=url,
        title=f"Harbour story {n}",
        published="2024-06-03T07:00:00Z",
        content_html=body,
        content_hash=fingerprint(body),
    )


def _push(settings: Settings, items: list[RawItem]) -> None:
    kafka.ensure_topics(settings)
    push_raw(settings, items)


def test_all_stages_in_one_process_index_every_item_then_stop_when_idle(isolated: Settings) -> None:
    items = [_raw(n) for n in range(20)]
    bad = b'{"not": "a raw item"}'
    _push(isolated, items)
    producer = kafka.producer(isolated)
    kafka.flush(producer, [kafka.send(producer, isolated.topic_raw, "bad", bad, [])])
    producer.close()

    every = run_all(isolated, until_idle_s=2.0)

    assert every["normalize"].records == 21 and every["index"].records == 20
    es = search.client(isolated)
    es.indices.refresh(index=isolated.index_alias)
    stored = {hit["_id"] for hit in es.search(index=isolated.index_alias, size=50)["hits"]["hits"]}
    assert stored == {item.item_id for item in items}
    assert kafka.lag(isolated, isolated.group_normalize, isolated.topic_raw) == 0
    assert kafka.lag(isolated, isolated.group_index, isolated.topic_articles) == 0
    assert sum(kafka.end_offsets(isolated, isolated.topic_deadletter).values()) == 1


def test_worker_all_command_drains_the_pipeline_and_exits(isolated: Settings) -> None:
    items = [_raw(n) for n in range(5)]
    _push(isolated, items)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(isolated.as_env())
    done = subprocess.run(
        [NEWSFLOW, "worker", "all", "--until-idle", "2"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "normalize: 5 records" in done.stdout and "index: 5 records" in done.stdout
    es = search.client(isolated)
    es.indices.refresh(index=isolated.index_alias)
    assert es.count(index=isolated.index_alias)["count"] == 5
