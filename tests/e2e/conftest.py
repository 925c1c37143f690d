"""End-to-end helpers: run DAGs with `dag.test()` in a separate Airflow home, against the real stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from pipeline.config import Settings
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]

_RUN_DAGS = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
states = {}
for dag_id in sys.argv[2:]:
    run = bag.get_dag(dag_id).test()
    states[dag_id] = str(run.state)
print("DAG-STATES " + json.dumps(states))
"""


def _airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
    }


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("airflow-home")
    env = {**os.environ, **_airflow_env(home)}
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True
    )
    return home


RunDags = Callable[[Settings, Path, Sequence[str]], dict[str, str]]
# The same, also returning everything the run printed (task logs included).
RunDagsWithOutput = Callable[[Settings, Path, Sequence[str]], tuple[dict[str, str], str]]


@pytest.fixture
def run_dags_with_output(airflow_home: Path) -> RunDagsWithOutput:
    def run(settings: Settings, sources_file: Path, dag_ids: Sequence[str]) -> tuple[dict[str, str], str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        env.update(settings.model_copy(update={"sources": sources_file}).as_env())
        env.update(_airflow_env(airflow_home))
        out = subprocess.run(
            [sys.executable, "-c", _RUN_DAGS, str(REPO / "dags"), *dag_ids],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("DAG-STATES ")]
        assert out.returncode == 0 and lines, f"dag.test() failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        return dict(json.loads(lines[-1].removeprefix("DAG-STATES "))), out.stdout + out.stderr

    return run


@pytest.fixture
def run_dags(run_dags_with_output: RunDagsWithOutput) -> RunDags:
    def run(settings: Settings, sources_file: Path, dag_ids: Sequence[str]) -> dict[str, str]:
        return run_dags_with_output(settings, sources_file, dag_ids)[0]

    return run


@dataclass(frozen=True)
class OwnAirflow:
    """An Airflow of the tests' own (own home, port and sources file) on the stack's Kafka and Elasticsearch."""

    settings: Settings
    sources: Path
    initial: list[dict[str, object]]  # what the sources file holds at start (and after each test)

    def write_sources(self, entries: Sequence[Mapping[str, object]]) -> None:
        self.sources.write_text(yaml.safe_dump({"sources": list(entries)}, allow_unicode=True), encoding="utf-8")


def bundled_sources() -> list[dict[str, object]]:
    """The repo's sources file with paths made absolute (the tests' sources file lives elsewhere)."""
    from pipeline.sources.catalog import load_sources

    return [source.model_dump(mode="json", exclude_none=True) for source in load_sources(REPO / "sources.yaml")]


@pytest.fixture(scope="session")
def own_airflow(stack: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnAirflow]:
    """Started once for the session (a minute or two on two cores), stopped at the end.

    The DAG folder is re-parsed every 5 s instead of 30 s, so that a change to the sources file shows
    within seconds; nothing else differs from the stack's Airflow.
    """
    from pipeline.stack import airflow_server
    from tests.conftest import _remove

    home = tmp_path_factory.mktemp("own-airflow")
    run = uuid.uuid4().hex[:10]
    settings = stack.model_copy(
        update={
            "state_dir": home / "state",
            "airflow_port": free_port(),
            "sources": home / "sources.yaml",
            "dags_folder": REPO / "dags",
            "topic_raw": f"t{run}.news.raw",
            "topic_articles": f"t{run}.news.articles",
            "topic_deadletter": f"t{run}.news.deadletter",
            "group_normalize": f"t{run}-normalize",
            "group_index": f"t{run}-index",
            "index_alias": f"t{run}-news-articles",
            "topic_partitions": 3,
        }
    )
    bundled = bundled_sources()
    wire = next(source for source in bundled if source["id"] == "harbour-wire")
    # A second source on harbour-wire's schedule, so that one schedule's DAG polls more than one source.
    airflow = OwnAirflow(settings, home / "sources.yaml", [*bundled, {**wire, "id": "harbour-wire-again"}])
    airflow.write_sources(airflow.initial)
    try:
        airflow_server.start(
            settings,
            {
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            },
            timeout_s=600,  # a second Airflow on two busy cores can take minutes to answer
        )
        yield airflow
    finally:
        airflow_server.process(settings).stop()
        _remove(settings)
