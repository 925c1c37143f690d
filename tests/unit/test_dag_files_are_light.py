"""Parsing a DAG file must stay cheap: no Kafka, Elasticsearch, fetching or parser imports at module level.

(httpx is not checked: airflow.sdk imports it itself.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
HEAVY = [
    "kafka",
    "elasticsearch",
    "pipeline.sources.fetch",
    "feedparser",
    "rjieba",
    "jieba",
    "selectolax",
    "pipeline.kafka",
    "pipeline.search",
    "pipeline.poll",
    "pipeline.deadletters",
    "pipeline.maintenance",
]


def test_there_are_dag_files() -> None:
    assert {f.name for f in DAG_FILES} >= {"newsflow_sources.py", "newsflow_maintenance.py"}


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda f: f.name)
def test_dag_module_imports_nothing_heavy(tmp_path: Path, dag_file: Path) -> None:
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('newsflow_dags', {str(dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "NEWSFLOW_SOURCES": str(REPO / "sources.yaml")}
    env["NEWSFLOW_STATE_DIR"] = str(tmp_path / "state")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_source_without_a_fixed_outlet_or_category_is_in_its_schedules_dag(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n"
        f"  - {{id: mirror, type: jekyll, path: {posts}, trusted: true, outlets: {{emnews: 东方财富}}}}\n"
        f"  - {{id: fixed, type: jekyll, path: {posts}, trusted: true, outlet: 证券时报, category: zqsb}}\n",
        encoding="utf-8",
    )
    dag_file = REPO / "dags" / "newsflow_sources.py"
    script = (
        "import importlib.util, json\n"
        f"spec = importlib.util.spec_from_file_location('newsflow_dags', {str(dag_file)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "dag = module.poll__hourly\n"
        "print(json.dumps([sorted(dag.tags), dag.description, dag.doc_md], ensure_ascii=False))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "NEWSFLOW_SOURCES": str(sources)}
    env["NEWSFLOW_STATE_DIR"] = str(tmp_path / "state")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    tags, description, doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert tags == ["jekyll", "newsflow", "poll"] and description == "Poll the 2 sources on schedule @hourly"
    assert f"- `mirror`: jekyll at `{posts}`\n" in doc  # nothing fixed: each item's own outlet and category
    assert f"- `fixed`: jekyll at `{posts}` · 证券时报 · zqsb" in doc
