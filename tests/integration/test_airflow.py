"""Airflow: the DAG files import cleanly (one poll DAG per schedule, `poll_source` offering every source), follow
the sources file at the next parse, and the running API server answers and lists our DAGs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import Settings
from pipeline.poll_plan import ONE_SOURCE_DAG, plan
from pipeline.sources.catalog import load_sources
from pipeline.stack import airflow_server

REPO = Path(__file__).resolve().parents[2]


# One process loads the DAG folder once per version of the sources file (Airflow's import dominates the cost).
_DAGBAGS = """
import json, sys
from pathlib import Path
from airflow.dag_processing.dagbag import DagBag
folder, sources, versions = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
for text in versions:
    if text is not None:
        sources.write_text(text, encoding="utf-8")
    bag = DagBag(dag_folder=folder)
    dags = {
        d: {
            "tags": sorted(bag.dags[d].tags),
            "tasks": sorted(bag.dags[d].task_ids),
            "params": {k: bag.dags[d].params.get_param(k).schema for k in bag.dags[d].params},
            "doc": bag.dags[d].doc_md or "",
        }
        for d in bag.dag_ids
    }
    errors = {k: str(v) for k, v in bag.import_errors.items()}
    print("DAGBAG " + json.dumps({"errors": errors, "dags": dags}, ensure_ascii=False))
"""


def _dagbags(sources: Path, home: Path, versions: list[str | None]) -> list[dict[str, Any]]:
    """The DAGs parsed from `dags/` with `sources` holding each text of `versions` in turn (None: as it is)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "AIRFLOW__"))},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "NEWSFLOW_SOURCES": str(sources),
        "NEWSFLOW_STATE_DIR": str(home / "state"),
    }
    out = subprocess.run(
        [sys.executable, "-c", _DAGBAGS, str(REPO / "dags"), str(sources), json.dumps(versions)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    results = [json.loads(line[7:]) for line in out.stdout.splitlines() if line.startswith("DAGBAG ")]
    assert len(results) == len(versions), out.stderr[-3000:]
    for result in results:
        assert result["errors"] == {}
    return [result["dags"] for result in results]


def _check_repo_dags(dags: dict[str, Any]) -> None:
    enabled = [s.model_dump(mode="json") for s in load_sources(REPO / "sources.yaml") if s.enabled]
    groups = plan(enabled)
    assert set(dags) == {g.dag_id for g in groups} | {ONE_SOURCE_DAG, "newsflow_maintenance"}
    assert dags["newsflow_maintenance"]["tags"] == ["maintenance", "newsflow"]
    for group in groups:
        dag = dags[group.dag_id]
        assert dag["tags"] == sorted({"newsflow", "poll", *group.types})
        assert dag["tasks"] == ["poll", "sources", "summary"]
        for source_id in group.source_ids:  # the DAG's page names each of its sources
            assert f"`{source_id}`" in dag["doc"]
    one = dags[ONE_SOURCE_DAG]
    assert one["tasks"] == ["poll"]
    assert sorted(one["params"]) == ["dry_run", "force", "source_id"]
    assert one["params"]["source_id"]["examples"] == sorted(s["id"] for s in enabled)  # the Trigger form offers them


def test_dag_files_import_cleanly_and_follow_the_sources_file(tmp_path: Path) -> None:
    common = {"type": "feed", "url": "https://example.com/feed.xml", "outlet": "O", "category": "c"}

    def text(entries: list[dict[str, Any]]) -> str:
        return yaml.safe_dump({"sources": [{**common, **e} for e in entries]})

    sources = tmp_path / "sources.yaml"
    repo, before, after = _dagbags(
        sources,
        tmp_path,
        [
            (REPO / "sources.yaml").read_text(encoding="utf-8").replace("samples/", str(REPO / "samples") + "/"),
            text([{"id": "a", "schedule": "@hourly"}, {"id": "b", "schedule": "30m"}]),
            # b leaves, c joins @hourly, d brings a new schedule
            text(
                [{"id": "a", "schedule": "@hourly"}, {"id": "c", "schedule": "@hourly"}, {"id": "d", "schedule": "5m"}]
            ),
        ],
    )
    _check_repo_dags(repo)
    assert {"poll__hourly", "poll__every_30m"} <= set(before)
    assert before[ONE_SOURCE_DAG]["params"]["source_id"]["examples"] == ["a", "b"]
    assert set(after) == {"poll__hourly", "poll__every_5m", ONE_SOURCE_DAG, "newsflow_maintenance"}
    assert after[ONE_SOURCE_DAG]["params"]["source_id"]["examples"] == ["a", "c", "d"]
    assert "`c`" in after["poll__hourly"]["doc"] and "`b`" not in after["poll__hourly"]["doc"]


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
    enabled = [s.model_dump(mode="json") for s in load_sources(REPO / "sources.yaml") if s.enabled]
    expected = {group.dag_id for group in plan(enabled)} | {ONE_SOURCE_DAG}
    seen: set[str] = set()
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=30) as resp:
            seen = {d["dag_id"] for d in json.load(resp)["dags"]}
        if expected <= seen:
            break
        time.sleep(3)
    assert expected <= seen
