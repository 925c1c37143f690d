"""`type: jekyll` folders: one listing per poll, unchanged files never opened, vanished posts reported."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.polling import jekyll as folder
from pipeline.polling.listing import PollContext
from pipeline.sources.catalog import SourceConfig
from pipeline.sources.fetch import FetchResult
from pipeline.state import SourceState
from schemas.models import Validators

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "posts"


def _no_http(url: str, *, validators: Validators | None, trusted: bool) -> FetchResult:
    raise AssertionError("a folder source never fetches")


def _context(tmp_path: Path, **settings: object) -> PollContext:
    return PollContext(
        settings=Settings(state_dir=tmp_path / "state", **settings),
        now=datetime(2024, 1, 1, tzinfo=UTC),
        fetch=_no_http,
    )


def _source(path: Path) -> SourceConfig:
    return SourceConfig(id="posts", type="jekyll", path=path, outlet="O", category="c", trusted=True)


def _seed_copies(folder_path: Path, count: int) -> list[Path]:
    seed = (FIXTURES / "seed.txt").read_text(encoding="utf-8")
    paths = []
    for n in range(count):
        path = folder_path / f"{n:02d}.md"
        path.write_text(seed.replace("NW202205052369313688", f"NW2022050523693136{n:02d}"), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the lister opened, in order."""
    seen: list[str] = []
    real = folder._read_capped

    def spy(path: Path, cap: int) -> bytes:
        seen.append(path.name)
        return real(path, cap)

    monkeypatch.setattr(folder, "_read_capped", spy)
    return seen


def test_hidden_folders_are_not_walked_and_each_file_is_listed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    posts = tmp_path / "posts"
    (posts / "2022" / "05").mkdir(parents=True)
    (posts / ".git" / "objects" / "ab").mkdir(parents=True)
    (posts / ".git" / "objects" / "ab" / "cdef").write_bytes(b"x")
    (posts / ".draft.md").write_text("hidden")
    (posts / "2022" / "05" / "b.md").write_text("b")
    (posts / "a.md").write_text("a")
    os.symlink(posts, posts / "2022" / "loop")  # a symlinked folder is not followed
    walked: list[str] = []
    real_scandir = os.scandir

    def scandir(path: str) -> object:
        walked.append(os.path.relpath(path, posts))
        return real_scandir(path)

    monkeypatch.setattr(folder.os, "scandir", scandir)
    listed = [os.path.relpath(path, posts) for path, _ in folder.post_files(posts)]
    assert listed == ["2022/05/b.md", "a.md"]
    assert sorted(walked) == [".", "2022", "2022/05"]


def test_unchanged_files_are_never_read_again(tmp_path: Path, opened: list[str]) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    paths = _seed_copies(posts, 4)
    source, context = _source(posts), _context(tmp_path)
    first = folder.list_items(source, SourceState(), context)
    assert (first.read, len(first.items), sorted(opened)) == (4, 4, ["00.md", "01.md", "02.md", "03.md"])

    opened.clear()
    again = folder.list_items(source, first.state, context)
    assert (again.fetched, again.unchanged, again.read, again.items, opened) == (4, 4, 0, [], [])

    paths[2].write_text(paths[2].read_text(encoding="utf-8") + "\n", encoding="utf-8")
    os.utime(paths[2], ns=(1, 1))
    changed = folder.list_items(source, again.state, context)
    assert (changed.read, opened) == (1, ["02.md"])


def test_the_item_cap_defers_reads_without_forgetting_files(tmp_path: Path, opened: list[str]) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    _seed_copies(posts, 5)
    source, context = _source(posts), _context(tmp_path, max_items_per_poll=2)
    state = SourceState()
    reads = []
    for _ in range(4):
        listing = folder.list_items(source, state, context)
        reads.append((listing.read, listing.deferred))
        state = listing.state
    assert reads == [(2, 3), (2, 1), (1, 0), (0, 0)]
    assert sorted(opened) == [f"0{n}.md" for n in range(5)]  # each file opened once


def test_vanished_posts_are_forgotten_and_reported_unless_another_file_holds_them(tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    paths = _seed_copies(posts, 3)
    shutil.copy(paths[0], posts / "copy-of-00.md")
    source, context = _source(posts), _context(tmp_path)
    first = folder.list_items(source, SourceState(), context)
    paths[0].unlink()  # its post is still in copy-of-00.md
    paths[1].unlink()
    after = folder.list_items(source, first.state, context)
    gone_id = first.state.files[str(paths[1])].item_id
    assert after.deleted == [f"{paths[1]} (item {gone_id})"]
    assert set(after.state.files) == {str(posts / "copy-of-00.md"), str(paths[2])}


def test_a_file_moved_within_the_folder_is_not_read_again(tmp_path: Path, opened: list[str]) -> None:
    posts = tmp_path / "posts"
    (posts / "_posts").mkdir(parents=True)
    paths = _seed_copies(posts / "_posts", 3)
    source, context = _source(posts), _context(tmp_path)
    first = folder.list_items(source, SourceState(), context)
    opened.clear()
    (posts / "old_post").mkdir()
    moved = posts / "old_post" / paths[0].name
    paths[0].rename(moved)  # what an archiving job does: same file, new place
    shutil.copy(paths[1], posts / "old_post" / "copied.md")  # a copy is a new file: read
    after = folder.list_items(source, first.state, context)
    assert (after.read, after.unchanged, after.deleted, opened) == (1, 3, [], ["copied.md"])
    assert after.state.files[str(moved)].item_id == first.state.files[str(paths[0])].item_id
