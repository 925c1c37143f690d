"""`type: jekyll`: a local folder of Jekyll/Hexo-style posts (trusted sources only).

Each poll lists the folder (one `stat` per file, hidden files and folders skipped without descending
into them, so a `.git` inside costs nothing) and reads only the files whose size or mtime changed
since they were last read; the rest are counted unchanged without being opened. A file renamed or
moved within the folder (same inode, size and mtime as a file that vanished) is the same post, not
read again. Files that vanished are forgotten and, when no other file holds their post, reported as
deleted (never removed from the index).
"""

from __future__ import annotations

import os
from pathlib import Path

from pipeline.errors import PermanentError, RetryableError
from pipeline.polling.listing import Listing, PollContext, Rejected
from pipeline.sources import jekyll
from pipeline.sources.catalog import SourceConfig
from pipeline.state import FileStamp, SourceState


def post_files(folder: Path) -> list[tuple[str, os.stat_result]]:
    """Every non-hidden regular file under `folder` (symlinked folders are not followed), sorted by path."""
    found: list[tuple[str, os.stat_result]] = []
    pending = [str(folder)]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:
            continue  # a folder that vanished or may not be read: its files are simply not listed
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.is_file():
                    found.append((entry.path, entry.stat()))
            except OSError:
                continue
    found.sort(key=lambda pair: pair[0])
    return found


def _unchanged(stamp: FileStamp, stat: os.stat_result) -> bool:
    return stamp.size == stat.st_size and stamp.mtime_ns == stat.st_mtime_ns


def _identity(stat: os.stat_result) -> tuple[int, int, int]:
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def list_items(source: SourceConfig, state: SourceState, context: PollContext) -> Listing:
    assert source.path is not None
    if not source.path.is_dir():
        raise PermanentError(f"{source.path} is not a folder of posts")
    listing = Listing(state=state)
    files: dict[str, FileStamp] = {}
    handled = 0
    listed = post_files(source.path)
    present = {key for key, _ in listed}
    vanished = {
        (stamp.inode, stamp.size, stamp.mtime_ns): stamp
        for key, stamp in state.files.items()
        if key not in present and stamp.inode is not None
    }
    for key, stat in listed:
        stamp = state.files.get(key)
        if stamp is None and not context.force:
            stamp = vanished.pop(_identity(stat), None)  # moved here from a path that is gone
        if stamp is not None and not context.force and _unchanged(stamp, stat):
            files[key] = stamp if stamp.inode == stat.st_ino else stamp.model_copy(update={"inode": stat.st_ino})
            listing.fetched += 1
            listing.unchanged += 1
            continue
        if handled >= context.max_items or context.out_of_time():
            if stamp is not None:
                files[key] = stamp  # still there; read at the next poll
            listing.deferred += 1
            continue
        handled += 1
        listing.fetched += 1
        listing.read += 1
        files[key] = _read(key, stat, source, context, listing)
    listing.deleted = _gone(state.files, files)
    listing.state = state.model_copy(update={"files": files})
    return listing


def _read(key: str, stat: os.stat_result, source: SourceConfig, context: PollContext, listing: Listing) -> FileStamp:
    data = _read_capped(Path(key), context.max_item_bytes)
    try:
        item = jekyll.parse(data, source.info(), path=key, fetched_at=context.now, max_bytes=context.max_item_bytes)
    except PermanentError as exc:
        listing.rejected.append(
            Rejected(
                where=Path(key).name,
                error_type=type(exc).__name__,
                reason=str(exc),
                payload=data,
                details={"path": key},
            )
        )
        return FileStamp(size=stat.st_size, mtime_ns=stat.st_mtime_ns, inode=stat.st_ino)
    listing.items.append(item)
    return FileStamp(size=stat.st_size, mtime_ns=stat.st_mtime_ns, item_id=item.item_id, inode=stat.st_ino)


def _gone(before: dict[str, FileStamp], after: dict[str, FileStamp]) -> list[str]:
    """Posts whose file vanished and that no remaining file holds."""
    remaining = {stamp.item_id for stamp in after.values()}
    return [
        f"{key} (item {stamp.item_id})"
        for key, stamp in before.items()
        if key not in after and stamp.item_id and stamp.item_id not in remaining
    ]


def _read_capped(path: Path, cap: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(cap + 1)
    except OSError as exc:
        raise RetryableError(f"cannot read {path}: {exc.strerror}") from None
    return data
