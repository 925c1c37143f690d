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
    return java_command(lib, settings.es_heap, home(settings), host, port, port + 100)


def java_command(
    lib: Path, heap: str, node_home: Path, host: str, http_port: int, transport_port: int, *extra: str
) -> list[str]:
    """The launcher of the jars in `lib` for one node under `node_home`; `extra` are more launcher options."""
    return [
        "java",
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-Xss1m",
        "-XX:+UseG1GC",
        "-XX:-OmitStackTraceInFastThrow",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        "-Djava.locale.providers=CLDR",
        "-Djava.io.tmpdir=" + str(node_home / "tmp"),
        "-cp",
        f"{lib}/*",
        "newsflow.stack.EsNode",
        "--home",
        str(node_home),
        "--data",
        str(node_home / "data"),
        "--logs",
        str(node_home / "logs"),
        "--host",
        host,
        "--http-port",
        str(http_port),
        "--transport-port",
        str(transport_port),
        "--cluster-name",
        "newsflow",
        *extra,
    ]


def build(settings: Settings, log_file: Path) -> Path:
    """The launcher and server jars (built once per launcher version into the cache dir)."""
    return maven.build("elasticsearch", ["package"], settings.cache_dir, log_file)


def start(settings: Settings) -> None:
    proc = process(settings)
    if proc.pid() is None:
        proc.run_dir.mkdir(parents=True, exist_ok=True)
        lib = build(settings, proc.log_file)
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
