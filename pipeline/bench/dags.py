"""`newsflow bench-dags`: what thousands of sources cost Airflow, for each way of laying out the poll DAGs.

For each size, a generated sources file in a temp dir (feeds on five schedules) and, in a fresh Python
process per layout, the time `DagBag` takes to fill from the DAG folder (wall and CPU, Airflow's own import
excluded):

- `per-source, YAML`: one DAG per source, the sources file validated at every parse (the previous layout);
- `per-source, manifest`: one DAG per source, from the cached manifest;
- `per-schedule, manifest`: the repo's `dags/` (one DAG per schedule, a mapped task per source), `cold` when
  the manifest must be rebuilt (the first parse after an edit) and `warm` otherwise.

Then, unless `--no-server`, an Airflow of its own (own home, port and state dir; DAGs paused at creation so
that only what is measured runs) on the repo's `dags/`, and from its REST API: how long until the
dag-processor has serialized the DAGs, its parse time of the file, the delay from triggering `poll_source`
to its task starting and to its success, and for the largest schedule's DAG: from unpausing it to its
(scheduled) run starting, and from its `sources` task ending to the first mapped `poll` instance starting
(the scheduler expanding one task instance per source). That run is then marked failed, so the thousands
of polls it would make do not run. Figures are wall-clock on a shared machine: compare within one run.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from pipeline.config import Settings
from pipeline.errors import ServiceError
from pipeline.poll_plan import ONE_SOURCE_DAG, plan
from pipeline.sources import manifest

REPO_DAGS = Path(__file__).resolve().parents[2] / "dags"
SCHEDULES = ("@hourly", "30m", "15 * * * *", "@daily", "10m")

PER_SOURCE_DAG_FILE = """
import os
from datetime import UTC, datetime, timedelta
from airflow.sdk import Param, dag, task
from pipeline.config import Settings
from pipeline.poll_plan import interval_seconds

def build(source):
    seconds = interval_seconds(source["schedule"])
    schedule = timedelta(seconds=seconds) if seconds else source["schedule"]
    @dag(dag_id=f"poll__{source['id']}", schedule=schedule, start_date=datetime(2024, 1, 1, tzinfo=UTC),
         catchup=False, max_active_runs=1, tags=["newsflow", source["outlet"], source["category"]],
         doc_md=f"### Polls `{source['id']}`", default_args={"retries": 4, "retry_delay": timedelta(seconds=30)},
         params={"force": Param(False, type="boolean"), "dry_run": Param(False, type="boolean")})
    def poll_source_dag():
        @task(task_id="poll")
        def poll(source_id: str = source["id"], **context):
            from pipeline.tasks import poll_task
            return poll_task(source_id)
        poll()
    return poll_source_dag()

settings = Settings()
if os.environ.get("NEWSFLOW_BENCH_FROM_MANIFEST"):
    from pipeline.sources import manifest
    entries = manifest.load(settings.sources, settings.state_dir).enabled()
else:
    from pipeline.sources.catalog import load_sources
    entries = [s.model_dump(mode="json") for s in load_sources(settings.sources) if s.enabled]
for entry in entries:
    globals()[f"poll__{entry['id']}"] = build(entry)
"""

MEASURE_DAGBAG = """
import json, resource, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
import_s = time.perf_counter() - t0
cpu0, t1 = time.process_time(), time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
print("DAGBAG " + json.dumps({
    "airflow_import_s": round(import_s, 2),
    "parse_s": round(time.perf_counter() - t1, 3),
    "parse_cpu_s": round(time.process_time() - cpu0, 3),
    "dags": len(bag.dag_ids),
    "errors": len(bag.import_errors),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""


def write_sources(path: Path, count: int, feed: Path) -> None:
    sources = [
        {
            "id": f"bench-{n:05d}",
            "type": "feed",
            "url": feed.as_uri(),
            "outlet": f"Outlet {n % 50}",
            "category": f"category-{n % 20}",
            "tags": [f"tag-{n % 7}"],
            "language": "en",
            "schedule": SCHEDULES[n % len(SCHEDULES)],
            "trusted": True,
        }
        for n in range(count)
    ]
    path.write_text(yaml.safe_dump({"sources": sources}, sort_keys=False), encoding="utf-8")


def _feed(path: Path) -> Path:
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>bench</title>'
        "<item><title>One story</title><link>https://example.com/one</link><guid>one</guid></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    return path


def measure_dagbag(folder: Path, sources: Path, state_dir: Path, extra_env: Mapping[str, str] | None = None) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "AIRFLOW_HOME": str(state_dir / "airflow-home"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "900",  # measure past the 30 s default instead of failing
            "NEWSFLOW_SOURCES": str(sources),
            "NEWSFLOW_STATE_DIR": str(state_dir),
            **(extra_env or {}),
        }
    )
    out = subprocess.run(
        [sys.executable, "-c", MEASURE_DAGBAG, str(folder)], env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("DAGBAG ")]
    if not lines:
        raise ServiceError(f"DagBag measurement failed:\n{out.stderr[-2000:]}")
    return json.loads(lines[-1][7:])


def parse_figures(count: int, work: Path, report: Callable[[str], None]) -> dict[str, Any]:
    sources = work / "sources.yaml"
    write_sources(sources, count, _feed(work / "feed.xml"))
    per_source = work / "per-source-dags"
    per_source.mkdir(exist_ok=True)
    (per_source / "newsflow_sources.py").write_text(PER_SOURCE_DAG_FILE, encoding="utf-8")
    state = work / "state"
    figures: dict[str, Any] = {}
    runs: list[tuple[str, Path, dict[str, str], bool]] = [
        ("per-schedule, manifest cold", REPO_DAGS, {}, True),
        ("per-schedule, manifest warm", REPO_DAGS, {}, False),
        ("per-source, manifest warm", per_source, {"NEWSFLOW_BENCH_FROM_MANIFEST": "1"}, False),
        ("per-source, YAML", per_source, {}, False),
    ]
    for name, folder, env, cold in runs:
        if cold:
            manifest.cache_file(sources, state).unlink(missing_ok=True)
        figures[name] = measure_dagbag(folder, sources, state, env)
        report(f"{count} sources, {name}: {_line(figures[name])}")
    return figures


def _line(figure: Mapping[str, Any]) -> str:
    return (
        f"DagBag {figure['parse_s']:.2f} s wall, {figure['parse_cpu_s']:.2f} s CPU, {figure['dags']} DAGs, "
        f"{figure['errors']} import errors, peak RSS {figure['peak_rss_mb']} MB"
    )


class AirflowApi:
    def __init__(self, base: str, password: str) -> None:
        token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": password}, timeout=60)
        token.raise_for_status()
        self.client = httpx.Client(
            base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=120
        )

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def send(self, method: str, path: str, body: Mapping[str, Any]) -> Any:
        return self._call(method, path, json=dict(body))

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request, tried again on a 5xx (SQLite answers "database is locked" while the scheduler writes)."""
        for attempt in range(6):
            answer = self.client.request(method, path, **kwargs)
            if answer.status_code < 500 or attempt == 5:
                answer.raise_for_status()
                return answer.json()
            time.sleep(2)
        raise AssertionError("unreachable")


def _wait(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise ServiceError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _at(text: str | None) -> float:
    if not text:
        raise ServiceError("Airflow returned no timestamp where one was expected")
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def server_figures(
    count: int, work: Path, base_settings: Settings, port: int, report: Callable[[str], None]
) -> dict[str, Any]:
    from pipeline.stack import airflow_server

    settings = base_settings.model_copy(
        update={
            "state_dir": work / "server-state",
            "airflow_port": port,
            "sources": work / "sources.yaml",
            "dags_folder": REPO_DAGS,
            "topic_raw": f"benchdags{count}.news.raw",
            "topic_articles": f"benchdags{count}.news.articles",
            "topic_deadletter": f"benchdags{count}.news.deadletter",
        }
    )
    overrides = {"AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True"}
    started = time.monotonic()
    airflow_server.start(settings, overrides, timeout_s=900)
    figures: dict[str, Any] = {"server_start_s": round(time.monotonic() - started, 1)}
    try:
        api = AirflowApi(airflow_server.base_url(settings), airflow_server.password(settings) or "")
        entries = manifest.load(settings.sources, settings.state_dir).enabled()
        groups = plan(entries)
        expected = {group.dag_id for group in groups} | {ONE_SOURCE_DAG}
        _wait(
            "the DAGs in the API",
            lambda: expected <= {d["dag_id"] for d in api.get("/dags", limit=1000)["dags"]},
            timeout_s=600,
            every_s=1,
        )
        figures["dags_visible_after_start_s"] = round(time.monotonic() - started, 1)
        report(
            f"{count} sources: server up in {figures['server_start_s']} s, DAGs listed after "
            f"{figures['dags_visible_after_start_s']} s"
        )

        # One source on demand: trigger -> task start -> success.
        api.send("PATCH", f"/dags/{ONE_SOURCE_DAG}", {"is_paused": False})
        triggered = time.time()
        run = api.send(
            "POST",
            f"/dags/{ONE_SOURCE_DAG}/dagRuns",
            {"logical_date": None, "conf": {"source_id": entries[0]["id"], "dry_run": True}},
        )
        path = f"/dags/{ONE_SOURCE_DAG}/dagRuns/{run['dag_run_id']}"
        done = _wait("poll_source to finish", lambda: (r := api.get(path))["state"] in ("success", "failed") and r, 600)
        task = api.get(f"{path}/taskInstances/poll")
        figures["poll_source"] = {
            "state": done["state"],
            "trigger_to_run_start_s": round(_at(done["start_date"]) - triggered, 2),
            "trigger_to_task_start_s": round(_at(task["start_date"]) - triggered, 2),
            "trigger_to_success_s": round(_at(done["end_date"]) - triggered, 2),
        }
        report(f"{count} sources, poll_source: {figures['poll_source']}")

        # The largest schedule: unpaused, the scheduler starts its latest due run at once (catchup off); from
        # unpausing to the run starting, and the expansion into one task instance per source.
        group = max(groups, key=lambda g: len(g.source_ids))
        unpaused = time.time()
        api.send("PATCH", f"/dags/{group.dag_id}", {"is_paused": False})
        run = _wait(
            f"a run of {group.dag_id}",
            lambda: (runs := api.get(f"/dags/{group.dag_id}/dagRuns")["dag_runs"]) and runs[0],
            600,
        )
        path = f"/dags/{group.dag_id}/dagRuns/{run['dag_run_id']}"

        def first_poll_started() -> Any:
            answer = api.get(
                f"{path}/taskInstances",
                task_id="poll",
                state=["running", "success", "failed", "up_for_retry"],
                limit=1,
                order_by="start_date",
            )
            return answer["task_instances"] and answer["task_instances"][0]

        first = _wait("the first mapped poll to start", first_poll_started, 900)
        mapped = api.get(f"{path}/taskInstances", task_id="poll", limit=1)["total_entries"]
        selected = api.get(f"{path}/taskInstances/sources")
        opened = api.get(path)
        api.send("PATCH", path, {"state": "failed"})  # stop: the measurement is the scheduling, not the polls
        api.send("PATCH", f"/dags/{group.dag_id}", {"is_paused": True})
        figures["schedule_dag"] = {
            "dag_id": group.dag_id,
            "sources": len(group.source_ids),
            "mapped_task_instances": mapped,
            "run_type": opened["run_type"],
            "unpause_to_run_start_s": round(_at(opened["start_date"]) - unpaused, 2),
            "unpause_to_sources_task_start_s": round(_at(selected["start_date"]) - unpaused, 2),
            "sources_task_s": round(_at(selected["end_date"]) - _at(selected["start_date"]), 2),
            "sources_end_to_first_poll_start_s": round(_at(first["start_date"]) - _at(selected["end_date"]), 2),
        }
        report(f"{count} sources, {group.dag_id}: {figures['schedule_dag']}")
        figures["dag_processor"] = _wait(
            "the dag-processor's stats table",
            lambda: (f := _processor_parse_time(settings))["parses_seen"] and f,
            120,
            2,
        )
        report(f"{count} sources, dag-processor: {figures['dag_processor']}")
    finally:
        airflow_server.process(settings).stop()
        _drop_topics(settings)
    return figures


_STATS_ROW = re.compile(r"newsflow_sources\.py\s+(?:\d+\s+)?(?:[\d.]+s\s+)?(\d+)\s+(\d+)\s+([\d.]+)s")


def _processor_parse_time(settings: Settings) -> dict[str, Any]:
    """The dag-processor's own figures for our file: the `Last Duration` of its periodic stats table."""
    from pipeline.stack import airflow_server

    text = airflow_server.process(settings).log_file.read_text(errors="replace")
    rows = [(int(m[1]), int(m[2]), float(m[3])) for m in _STATS_ROW.finditer(text)]
    durations = [duration for dags, errors, duration in rows if dags and not errors]
    return {
        "parses_seen": len(durations),
        "last_duration_s": durations[-1] if durations else None,
        "max_duration_s": max(durations) if durations else None,
        "dags": rows[-1][0] if rows else None,
    }


def _drop_topics(settings: Settings) -> None:
    from pipeline import kafka

    try:
        with kafka.admin(settings) as admin:
            doomed = [t for t in settings.topics if t in set(admin.list_topics())]
            if doomed:
                admin.delete_topics(doomed)
    except Exception:  # noqa: BLE001 - clean-up never hides the figures
        pass


def bench_dags(settings: Settings, *, counts: list[int], json_path: str | None, server: bool, port: int) -> int:
    report = print
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request would bury the figures
    results: dict[str, Any] = {"load_average_at_start": os.getloadavg(), "sizes": {}}
    for count in counts:
        with tempfile.TemporaryDirectory(prefix=f"newsflow-bench-dags-{count}-") as tmp:
            work = Path(tmp)
            figures = parse_figures(count, work, report)
            if server:
                figures["server"] = server_figures(count, work, settings, port, report)
            results["sizes"][str(count)] = figures
    results["load_average_at_end"] = os.getloadavg()
    results["peak_rss_mb_of_this_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2), encoding="utf-8")
        report(f"figures written to {json_path}")
    return 0
