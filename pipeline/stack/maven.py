"""Resolve and build the stack's Java parts with Maven, once, into the cache dir.

A build is keyed by a hash of its Maven project folder, so editing the pom or the launcher
rebuilds, and an unchanged project is reused on every later start.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import ServiceError

MAVEN_DIR = Path(__file__).parent / "maven"

_INSTALL_HINT = (
    "Install it from Debian's packages: `apt-get update && apt-get install -y openjdk-17-jdk-headless maven`."
)


def require_tools() -> None:
    """Fail with one clear line when Java 17+ or Maven is missing."""
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise ServiceError(
                f"`{tool}` was not found on PATH; the local stack needs Java 17+ and Maven. " + _INSTALL_HINT
            )
    out = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    major = _java_major(out)
    if major is not None and major < 17:
        raise ServiceError(f"Java {major} found, but Kafka 4 and Elasticsearch 8 need Java 17+. " + _INSTALL_HINT)


def _java_major(version_text: str) -> int | None:
    for token in version_text.replace('"', " ").split():
        head = token.split(".")[0]
        if head.isdigit() and "." in token:
            return int(head) if head != "1" else int(token.split(".")[1])
    return None


def project_hash(project: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in project.rglob("*") if p.is_file() and "target" not in p.parts):
        digest.update(str(file.relative_to(project)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def build(name: str, goals: Sequence[str], cache_dir: Path, log_file: Path) -> Path:
    """Build Maven project `maven/<name>` with `goals`; return the folder holding its jars.

    The goals get `-DoutputDirectory=<lib dir>`; the lib dir counts as built only once Maven
    succeeded (a stamp file), so an interrupted download is retried on the next start.
    """
    project = MAVEN_DIR / name
    key = project_hash(project)
    home = cache_dir / name / key
    lib = home / "lib"
    stamp = home / "built"
    if stamp.exists():
        return lib
    require_tools()
    work = home / "project"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(project, work)
    lib.mkdir(parents=True)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        result = subprocess.run(
            ["mvn", "-B", "-q", "-f", str(work / "pom.xml"), *goals, f"-DoutputDirectory={lib}"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if result.returncode != 0:
        raise ServiceError(f"Maven could not build {name} (exit {result.returncode}); see {log_file}")
    stamp.write_text(key)
    return lib
