"""Airflow: the DAG files import cleanly, and the running API server answers and lists our DAGs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.sources.catalog import load_sources
from pipeline.stack import airflow_server

REPO = Path(__file__).resolve().parents[2]


def test_every_dag_file_imports_without_errors(tmp_path: Path) -> None:
    script = (
        "import json, sys; from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1])\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'dags': {d: sorted(bag.dags[d].tags) for d in bag.dag_ids}}, ensure_ascii=False))\n"
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "NEWSFLOW_SOURCES": str(REPO / "sources.yaml"),
    }
    out = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "dags")], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == {}
    sources = [s for s in load_sources(REPO / "sources.yaml") if s.enabled]
    assert set(result["dags"]) == {f"poll__{s.id}" for s in sources} | {"newsflow_maintenance"}
    assert result["dags"]["newsflow_maintenance"] == ["maintenance", "newsflow"]
    for source in sources:
        assert result["dags"][f"poll__{source.id}"] == sorted({"newsflow", source.outlet, source.category})


def _token(settings: Settings) -> str:
    password = airflow_server.password(settings)
    assert password, "airflow standalone did not write its admin password"
    request = urllib.request.Request(
        f"{airflow_server.base_url(settings)}/auth/token",
        data=json.dumps({"username": airflow_server.ADMIN_USER, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:
        return str(json.load(resp)["access_token"])


@pytest.mark.services
def test_api_answers_and_lists_the_source_dags(stack: Settings) -> None:
    # A freshly started standalone server (scheduler, dag-processor, triggerer, API) can be slow to answer on
    # two busy cores: ask again for up to a minute, each time with a generous timeout.
    deadline = time.monotonic() + 60
    version = airflow_server.version(stack, timeout_s=15)
    while version is None and time.monotonic() < deadline:
        time.sleep(2)
        version = airflow_server.version(stack, timeout_s=15)
    assert version is not None and version.startswith("3."), f"Airflow API did not answer: {version!r}"
    request = urllib.request.Request(
        f"{airflow_server.base_url(stack)}/api/v2/dags?limit=100", headers={"Authorization": f"Bearer {_token(stack)}"}
    )
    # The dag-processor serializes DAG files shortly after start; wait for ours.
    deadline = time.monotonic() + 120
    expected = {f"poll__{s.id}" for s in load_sources(REPO / "sources.yaml") if s.enabled}
    seen: set[str] = set()
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=30) as resp:
            seen = {d["dag_id"] for d in json.load(resp)["dags"]}
        if expected <= seen:
            break
        time.sleep(3)
    assert expected <= seen
