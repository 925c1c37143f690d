"""End-to-end helpers: run DAGs with `dag.test()` in a separate Airflow home, against the real stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from pipeline.config import Settings

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
