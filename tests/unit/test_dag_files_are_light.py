"""Parsing a DAG file must stay cheap: no Kafka, Elasticsearch, fetching or parser imports at module level.

(httpx is not checked: airflow.sdk imports it itself.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DAG_FILE = REPO / "dags" / "newsflow_sources.py"
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
]


def test_dag_module_imports_nothing_heavy(tmp_path: Path) -> None:
    script = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('newsflow_dags', {str(DAG_FILE)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "NEWSFLOW_SOURCES": str(REPO / "sources.yaml")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
