"""The sources manifest: validated once per version of the file, re-validated when its bytes change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.sources import manifest


def _write(path: Path, ids: list[str], schedule: str = "@hourly") -> None:
    sources = [
        {
            "id": i,
            "type": "feed",
            "url": f"https://example.com/{i}.xml",
            "outlet": "O",
            "category": "c",
            "schedule": schedule,
        }
        for i in ids
    ]
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")


def test_first_read_validates_and_caches_the_next_reads_the_cache(tmp_path: Path) -> None:
    sources, state = tmp_path / "sources.yaml", tmp_path / "state"
    _write(sources, ["a", "b"])
    first = manifest.load(sources, state)
    assert not first.from_cache and [e["id"] for e in first.entries] == ["a", "b"]
    cached = manifest.cache_file(sources, state)
    assert json.loads(cached.read_text())["digest"] == first.digest
    second = manifest.load(sources, state)
    assert second.from_cache and second.entries == first.entries
    assert second.source("b").url == "https://example.com/b.xml"


def test_an_edited_file_is_validated_again(tmp_path: Path) -> None:
    sources, state = tmp_path / "sources.yaml", tmp_path / "state"
    _write(sources, ["a", "b"])
    manifest.load(sources, state)
    _write(sources, ["a", "c"])  # same size, maybe the same mtime: the bytes decide
    again = manifest.load(sources, state)
    assert not again.from_cache and [e["id"] for e in again.entries] == ["a", "c"]
    with pytest.raises(ConfigError, match=r"no source 'b'.*known: a, c"):
        again.source("b")


def test_the_cache_never_hides_an_invalid_file(tmp_path: Path) -> None:
    sources, state = tmp_path / "sources.yaml", tmp_path / "state"
    _write(sources, ["a"])
    manifest.load(sources, state)
    sources.write_text("sources:\n  - id: a\n    type: podcast\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="source 'a', field 'type'"):
        manifest.load(sources, state)


def test_a_corrupt_or_foreign_cache_is_ignored(tmp_path: Path) -> None:
    sources, state = tmp_path / "sources.yaml", tmp_path / "state"
    _write(sources, ["a"])
    cached = manifest.cache_file(sources, state)
    cached.parent.mkdir(parents=True)
    cached.write_text("{not json", encoding="utf-8")
    assert [e["id"] for e in manifest.load(sources, state).entries] == ["a"]
    assert manifest.load(sources, state).from_cache


def test_an_unwritable_state_dir_only_costs_speed(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    _write(sources, ["a"])
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the state dir should be", encoding="utf-8")
    loaded = manifest.load(sources, blocked)
    assert [e["id"] for e in loaded.entries] == ["a"] and not loaded.from_cache


def test_enabled_and_missing_file(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {"id": "on", "type": "feed", "url": "https://e.com/f", "outlet": "O", "category": "c"},
                    {
                        "id": "off",
                        "type": "feed",
                        "url": "https://e.com/g",
                        "outlet": "O",
                        "category": "c",
                        "enabled": False,
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    assert [e["id"] for e in manifest.load(sources, tmp_path / "s").enabled()] == ["on"]
    with pytest.raises(ConfigError, match="cannot read sources file"):
        manifest.load(tmp_path / "missing.yaml", tmp_path / "s")
