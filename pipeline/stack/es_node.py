"""Elasticsearch 8 from Maven Central jars: one node on loopback, started by our launcher.

The launcher (`maven/elasticsearch`, one Java class) runs the real server code with the
real Netty4 HTTP transport and registers the `cjk` analyzer; see its README.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline import search
from pipeline.config import Settings
from pipeline.stack import maven
from pipeline.stack.process import ManagedProcess, wait_until


def home(settings: Settings) -> Path:
    return (settings.state_dir / "elasticsearch").resolve()


def process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("elasticsearch", settings.state_dir.resolve() / "run", marker=str(home(settings)))


def address(settings: Settings) -> str:
    return settings.es_url


def version(settings: Settings) -> str | None:
    return search.ping(settings) if process(settings).pid() is not None else None


def _command(settings: Settings, lib: Path) -> list[str]:
    host, port = settings.es_host_port
    return [
        "java",
        f"-Xms{settings.es_heap}",
        f"-Xmx{settings.es_heap}",
        "-Xss1m",
        "-XX:+UseG1GC",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        "-Djava.locale.providers=CLDR",
        "-Djava.io.tmpdir=" + str(home(settings) / "tmp"),
        "-cp",
        f"{lib}/*",
        "newsflow.stack.EsNode",
        "--home",
        str(home(settings)),
        "--data",
        str(home(settings) / "data"),
        "--logs",
        str(home(settings) / "logs"),
        "--host",
        host,
        "--http-port",
        str(port),
        "--transport-port",
        str(port + 100),
        "--cluster-name",
        "newsflow",
    ]


def start(settings: Settings) -> None:
    proc = process(settings)
    if proc.pid() is None:
        proc.run_dir.mkdir(parents=True, exist_ok=True)
        lib = maven.build("elasticsearch", ["package"], settings.cache_dir, proc.log_file)
        (home(settings) / "tmp").mkdir(parents=True, exist_ok=True)
        proc.start(_command(settings, lib), env=dict(os.environ), cwd=home(settings))
    wait_until(lambda: _healthy(settings), timeout_s=180, proc=proc, service="Elasticsearch")


def _healthy(settings: Settings) -> bool:
    if search.ping(settings) is None:
        return False
    try:
        health = search.client(settings, timeout_s=5).cluster.health(wait_for_status="yellow", timeout="2s")
    except Exception:  # noqa: BLE001 - not healthy yet
        return False
    return str(health["status"]) in ("yellow", "green")
