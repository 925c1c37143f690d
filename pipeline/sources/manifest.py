"""The sources file, validated once per change and cached as JSON, for the Airflow DAG file and task bodies.

Validating a sources file of 10,000 entries (YAML, then every source's model) takes seconds; the DAG
file is parsed every half minute and each poll task needs its one source. So the validated sources are
kept in `<state_dir>/manifests/`, keyed by the sources file's path and checked against the SHA-256 of its
bytes on every read: an edited file (a source added, removed or changed) is validated again at the next
read, with no restart and no step to remember. Reading a current manifest costs a hash and a JSON load
(about 0.1 s for 10,000 sources).

A cache that cannot be written (a read-only state dir) only costs speed: the file is validated each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.errors import ConfigError
from pipeline.sources.catalog import SourceConfig, load_sources

FORMAT = 1


@dataclass(frozen=True)
class Manifest:
    """The validated sources of one version of the sources file, as JSON-ready dicts in file order."""

    digest: str
    entries: tuple[dict[str, Any], ...]
    from_cache: bool = False

    def enabled(self) -> list[dict[str, Any]]:
        return [entry for entry in self.entries if entry.get("enabled", True)]

    def source(self, source_id: str) -> SourceConfig:
        """One source, validated again from its entry (cheap: one model, not the whole file)."""
        for entry in self.entries:
            if entry["id"] == source_id:
                return SourceConfig.model_validate(entry)
        raise ConfigError(f"no source {source_id!r} in the sources file ({_known(self.entries)})")


def _known(entries: tuple[dict[str, Any], ...], show: int = 20) -> str:
    ids = [str(entry["id"]) for entry in entries]
    if not ids:
        return "it has none"
    more = f" and {len(ids) - show} more" if len(ids) > show else ""
    return "known: " + ", ".join(ids[:show]) + more


def cache_file(sources: Path, state_dir: Path) -> Path:
    key = hashlib.sha256(str(sources.expanduser().resolve()).encode()).hexdigest()[:16]
    return state_dir.expanduser().resolve() / "manifests" / f"sources-{key}.json"


def load(sources: Path, state_dir: Path) -> Manifest:
    """The manifest of `sources`, from the cache when it matches the file's bytes, else validated and cached.

    Raises `ConfigError` (naming the source and field) when the file is missing or invalid.
    """
    try:
        data = sources.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {sources}: {exc.strerror}") from None
    digest = hashlib.sha256(data).hexdigest()
    cached = _read_cache(cache_file(sources, state_dir), digest)
    if cached is not None:
        return Manifest(digest, cached, from_cache=True)
    entries = tuple(source.model_dump(mode="json") for source in load_sources(sources))
    _write_cache(cache_file(sources, state_dir), {"format": FORMAT, "digest": digest, "entries": entries})
    return Manifest(digest, entries)


def _read_cache(file: Path, digest: str) -> tuple[dict[str, Any], ...] | None:
    try:
        data = json.loads(file.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("digest") != digest:
        return None
    entries = data.get("entries")
    return tuple(entries) if isinstance(entries, list) else None


def _write_cache(file: Path, data: dict[str, Any]) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(tmp, file)  # readers see the old manifest or the new one, never half
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return None
