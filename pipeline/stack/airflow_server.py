"""Airflow 3 for development: `airflow standalone` on loopback, SQLite under the state dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import ServiceError
from pipeline.stack.process import ManagedProcess, wait_until

ADMIN_USER = "admin"


def home(settings: Settings) -> Path:
    return (settings.state_dir / "airflow").resolve()


def process(settings: Settings) -> ManagedProcess:
    return ManagedProcess("airflow", settings.state_dir.resolve() / "run", marker="airflow")


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.airflow_port}"


def environment(settings: Settings, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for every airflow process: its config, and our settings for the DAGs' tasks.

    `overrides` (AIRFLOW__* settings) come last: tests and measurements use them, the stack does not."""
    venv_bin = str(Path(sys.executable).parent)
    airflow_home = home(settings)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "NEWSFLOW_"))}
    env.update(settings.as_env())
    env.update(
        {
            "PATH": venv_bin + os.pathsep + env.get("PATH", ""),
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(settings.dags_folder.resolve()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # Each LocalExecutor slot is a resident process of ~130 MB: keep a few.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url(settings)}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(settings.airflow_port),
            "AIRFLOW__API__BASE_URL": base_url(settings),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            # A schedule's DAG maps one task instance per source: allow 10,000 sources on one schedule.
            "AIRFLOW__CORE__MAX_MAP_LENGTH": "20000",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    env.update(overrides or {})
    return env


def version(settings: Settings, timeout_s: float = 2.0) -> str | None:
    try:
        with urllib.request.urlopen(f"{base_url(settings)}/api/v2/version", timeout=timeout_s) as resp:
            return str(json.load(resp)["version"])
    except (OSError, ValueError, KeyError):
        return None


def password(settings: Settings) -> str | None:
    """The admin password `airflow standalone` generated, if it did."""
    file = home(settings) / "simple_auth_manager_passwords.json.generated"
    try:
        return str(json.loads(file.read_text())[ADMIN_USER])
    except (OSError, ValueError, KeyError):
        return None


def start(settings: Settings, overrides: Mapping[str, str] | None = None, timeout_s: float = 180) -> None:
    proc = process(settings)
    if proc.pid() is None:
        env = environment(settings, overrides)
        home(settings).mkdir(parents=True, exist_ok=True)
        proc.run_dir.mkdir(parents=True, exist_ok=True)
        with open(proc.log_file, "ab") as log:
            migrated = subprocess.run(
                ["airflow", "db", "migrate"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        if migrated.returncode != 0:
            raise ServiceError(f"airflow db migrate failed; see {proc.log_file}\n{proc.log_tail()}")
        proc.start(["airflow", "standalone"], env=env, cwd=home(settings))
    wait_until(lambda: version(settings) is not None, timeout_s=timeout_s, proc=proc, service="Airflow")
    wait_until(lambda: password(settings) is not None, timeout_s=60, proc=proc, service="Airflow")


def login_hint(settings: Settings) -> str:
    pw = password(settings)
    where = home(settings) / "simple_auth_manager_passwords.json.generated"
    return f"login {ADMIN_USER} / {pw}" if pw else f"login {ADMIN_USER} / (password in {where})"
