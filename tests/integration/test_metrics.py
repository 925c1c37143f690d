"""Worker metrics: the real `newsflow worker ... --metrics-port` processes, scraped over HTTP while they work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.sources import jekyll
from schemas.models import SourceInfo, SourceType
from tests.support.ports import free_port

pytestmark = pytest.mark.services

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")
SOURCE = SourceInfo(id="metrics-posts", type=SourceType.JEKYLL, outlet="指标报", category="metrics", language="zh")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _post(n: int) -> bytes:
    return (
        f'---\ntitle: "第{n}号指标测试新闻"\ndate: 2024-03-0{n + 1} 08:00:00 +0800\ntags: 指标\n---\n'
        f"<p>跨境电商综试区第{n}次发布了新的产业政策，物流与金融服务同步推进。</p>\n"
    ).encode()


def _push(settings: Settings, valid: int) -> None:
    emitter = KafkaEmitter(settings)
    try:
        for n in range(valid):
            emitter.raw(jekyll.parse(_post(n), SOURCE, path=f"/posts/{n}.md", fetched_at=datetime.now(UTC)))
        emitter.send_bytes(settings.topic_raw, "broken-item", b"{not json", SOURCE.id)
        emitter.flush()
    finally:
        emitter.close()


def _scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _wait_for(
    port: int, ready: Callable[[Samples], bool], proc: subprocess.Popen[bytes], timeout_s: float = 90
) -> Samples:
    deadline = time.monotonic() + timeout_s
    samples: Samples = {}
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"worker exited with {proc.returncode}"
        try:
            samples = _scrape(port)
        except OSError:  # not listening yet
            samples = {}
        if samples and ready(samples):
            return samples
        time.sleep(0.5)
    raise AssertionError(f"metrics never got there; last scrape: {sorted(samples.items(), key=str)[:80]}")


@pytest.fixture
def start_worker(isolated: Settings, tmp_path: Path) -> Iterator[Callable[[str, int], subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(isolated.as_env())

    def start(kind: str, port: int) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"{kind}.log", "wb")  # noqa: SIM115 - lives with the process
        proc = subprocess.Popen(
            [NEWSFLOW, "worker", kind, "--metrics-port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def test_workers_count_what_they_consume_produce_fail_and_index(
    isolated: Settings, start_worker: Callable[[str, int], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    settings = isolated
    kafka.ensure_topics(settings)
    search.ensure_index(search.client(settings), settings)
    raw, articles, dead = settings.topics
    normalize_port, index_port = free_port(), free_port()
    normalizer = start_worker("normalize", normalize_port)
    indexer = start_worker("index", index_port)
    _push(settings, valid=3)

    n = _wait_for(
        normalize_port,
        lambda s: (
            _value(s, "newsflow_messages_failed_total", worker="normalize", topic=raw) == 1
            and _value(s, "newsflow_messages_produced_total", worker="normalize", topic=articles) == 3
            and _value(s, "newsflow_consumer_lag_messages", worker="normalize", topic=raw) == 0
        ),
        normalizer,
    )
    assert _value(n, "newsflow_messages_consumed_total", worker="normalize", topic=raw) == 4
    assert _value(n, "newsflow_messages_produced_total", worker="normalize", topic=dead) == 1
    assert _value(n, "newsflow_batch_size_sum", worker="normalize") == 4
    assert (_value(n, "newsflow_batch_size_count", worker="normalize") or 0) >= 1
    assert _value(n, "newsflow_retries_total", worker="normalize", scope="batch") == 0

    i = _wait_for(
        index_port,
        lambda s: (
            _value(s, "newsflow_documents_indexed_total", worker="index", result="stored") == 3
            and _value(s, "newsflow_consumer_lag_messages", worker="index", topic=articles) == 0
        ),
        indexer,
    )
    assert _value(i, "newsflow_messages_consumed_total", worker="index", topic=articles) == 3
    assert _value(i, "newsflow_messages_failed_total", worker="index", topic=articles) == 0  # none failed, but shown
    # Every bulk request is observed once by the histogram (what it took is the benchmark's business).
    requests = _value(i, "newsflow_bulk_request_seconds_count", worker="index")
    assert requests is not None and requests >= 1
    assert _value(i, "newsflow_bulk_request_seconds_bucket", worker="index", le="+Inf") == requests
    assert _value(i, "newsflow_bulk_request_seconds_sum", worker="index") is not None
    assert _value(i, "newsflow_freshness_fetched_seconds_count", worker="index") == 3
    # Fetched moments ago: every article is within a minute; published in March 2024: all past a week.
    assert _value(i, "newsflow_freshness_fetched_seconds_bucket", worker="index", le="60.0") == 3
    assert _value(i, "newsflow_freshness_published_seconds_count", worker="index") == 3
    assert _value(i, "newsflow_freshness_published_seconds_bucket", worker="index", le="604800.0") == 0

    for proc in (normalizer, indexer):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, (tmp_path / "normalize.log").read_text(errors="replace")
    with pytest.raises(OSError):  # the server stopped with the worker
        _scrape(index_port)


def test_metrics_are_off_without_a_port() -> None:
    from pipeline.metrics import NO_METRICS, serve

    assert serve("normalize", 0) is NO_METRICS
