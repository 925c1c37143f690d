"""Durable per-source polling state: validators, what was pushed, and the source's health.

One JSON file per source under `<state_dir>/sources/`, replaced atomically (write, fsync,
rename), so a crash or a reboot leaves either the old state or the new one, never half.
A lock file serializes polls of the same source (a DAG run and a CLI run, say).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from schemas.models import Validators


class FileStamp(BaseModel):
    size: int
    mtime_ns: int
    item_id: str | None = None
    inode: int | None = Field(default=None, description="To know a file moved (renamed) from one it replaced.")


class SourceState(BaseModel):
    validators: Validators = Field(default_factory=Validators)
    pushed: dict[str, str] = Field(default_factory=dict, description="item id -> content hash last pushed")
    files: dict[str, FileStamp] = Field(default_factory=dict, description="post file -> stamp when last read")
    cursor: dict[str, Any] = Field(
        default_factory=dict, description="Where a source type is in its source (git: commit, posts read); its own."
    )
    consecutive_failures: int = 0
    last_error: str | None = None
    last_attempt_at: AwareDatetime | None = None
    last_success_at: AwareDatetime | None = None
    next_attempt_at: AwareDatetime | None = None
    min_interval_s: int | None = Field(default=None, description="From ttl / Cache-Control max-age / Retry-After.")


class StateStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "sources"

    def _file(self, source_id: str) -> Path:
        return self.dir / f"{source_id}.json"

    def load(self, source_id: str) -> SourceState:
        try:
            return SourceState.model_validate_json(self._file(source_id).read_bytes())
        except FileNotFoundError:
            return SourceState()

    def save(self, source_id: str, state: SourceState) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=f".{source_id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(state.model_dump_json(indent=1).encode())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self._file(source_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    @contextmanager
    def locked(self, source_id: str) -> Iterator[None]:
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / f".{source_id}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def all(self) -> dict[str, SourceState]:
        if not self.dir.exists():
            return {}
        return {f.stem: self.load(f.stem) for f in sorted(self.dir.glob("*.json"))}


def utcnow() -> datetime:
    return datetime.now(UTC)
