"""Real git repositories of real posts, built in a test's temp dir from the corpus in `../shared/data`.

The corpus is read where it lies, beside the checkout; only the temp repositories hold copies.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "data"


def corpus() -> Path:
    if not (CORPUS / "finews").is_dir():
        pytest.fail(f"the corpus of real posts is missing: expected it at {CORPUS} (beside the checkout)")
    return CORPUS


def finews(name: str) -> bytes:
    return (corpus() / "finews" / name).read_bytes()


class WorkRepo:
    """A git working repository, as the mirror's scheduled job keeps one: commits with fixed authors and dates."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self._clock = 1_638_950_400  # 2021-12-08, as the posts
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "--quiet", f"--initial-branch={branch}")

    def git(self, *args: str) -> str:
        self._clock += 60
        stamp = f"{self._clock} +0800"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "mirror bot",
            "GIT_AUTHOR_EMAIL": "bot@mirror.test",
            "GIT_COMMITTER_NAME": "mirror bot",
            "GIT_COMMITTER_EMAIL": "bot@mirror.test",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, check=False, timeout=60)
        if done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode().strip()

    def write(self, relative: str, data: bytes) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def read(self, relative: str) -> bytes:
        return (self.path / relative).read_bytes()

    def move(self, source: str, target: str) -> None:
        (self.path / target).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", source, target)

    def delete(self, relative: str) -> None:
        self.git("rm", "--quiet", "--", relative)

    def commit(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")
