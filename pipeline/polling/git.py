"""`type: git`: a git repository of posts (a Jekyll or Hexo site's source, a mirror fed by scheduled commits).

The repository is fetched into a bare mirror under the state dir (`<state_dir>/git/<source id>.git`);
posts are read from git's objects, never from a checkout, and parsed by the post parser
(`pipeline.sources.jekyll`).

- **First poll**: every file of the branch's head under `paths` is a post to read, newest file
  name first (Jekyll names start with the date), at most `max_items_per_poll` of them and for at
  most `max_poll_seconds`; the next polls continue with what is left, comparing the then-current
  tree with what was read.
- **Later polls** read only the files changed between the last commit seen and the new head
  (`git diff-tree -M`).
- **Moves**: a file whose content (git blob) is what another, vanished path held is the same post
  moved: it is not read again, and nothing is pushed. A moved *and* edited file is read; its id is
  the post's id (ids come from the post's link, title and date, not its path), so it updates the
  story instead of adding one, and only if its content changed.
- **Deletes**: a post whose path vanished and that no other path holds is logged as deleted at the
  source. Its document stays in the index.
- **Rewritten history** (a force push: the last commit seen is no longer an ancestor of the head, or
  is gone): the head's tree is compared with what was read, path by path and blob by blob, so only
  what differs is read.

The cursor (last commit, whether every post of it was read, and per path the blob read and the item it
became) is saved with the source's state, so only after Kafka acknowledged the items.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pydantic import BaseModel, Field

from pipeline.adapters.git import Blob, BlobReader, Change, Mirror, Remote, shown
from pipeline.errors import PermanentError
from pipeline.polling.listing import Listing, PollContext, Rejected
from pipeline.sources import jekyll
from pipeline.sources.catalog import SourceConfig
from pipeline.state import SourceState
from schemas.models import SourceInfo

log = logging.getLogger("newsflow.poll.git")

DEFAULT_PATHS = ("_posts",)


class GitPost(BaseModel):
    blob: str = Field(description="The git blob last read at this path.")
    item_id: str | None = Field(default=None, description="The item it became; None when it was dead-lettered.")


class GitCursor(BaseModel):
    commit: str | None = Field(default=None, description="The head commit of the last poll.")
    complete: bool = Field(default=False, description="Every post of `commit` was read (else compare its tree).")
    posts: dict[str, GitPost] = Field(default_factory=dict, description="path -> what was read there")


@dataclass(frozen=True)
class Plan:
    """What a poll must do to bring the cursor's posts up to a new head."""

    read: list[tuple[str, str]] = field(default_factory=list)  # (path, blob), in reading order
    moved: list[tuple[str, str]] = field(default_factory=list)  # (old path, new path): same blob, not read
    gone: list[str] = field(default_factory=list)  # paths that hold no post any more


def pathspec(paths: Sequence[str] | None) -> list[str]:
    """The folders to read as git pathspecs: `_posts` by default, none at all for the whole repository."""
    chosen = list(paths) if paths is not None else list(DEFAULT_PATHS)
    return [] if chosen == ["."] else chosen


def _is_post(path: str) -> bool:
    return not any(part.startswith(".") for part in PurePosixPath(path).parts)


def _reading_order(entry: tuple[str, str]) -> tuple[str, str]:
    path = entry[0]
    return PurePosixPath(path).name, path


def plan_tree(tree: Mapping[str, str], posts: Mapping[str, GitPost], *, everything: bool = False) -> Plan:
    """Compare a whole tree (path -> blob) with what was read; `everything` reads every file again.

    Read again (a forced poll: a backfill, or dead letters replayed once their cause is fixed), the
    posts that were dead-lettered come first, so the item cap never leaves them for last.
    """
    candidates = {
        path: blob
        for path, blob in tree.items()
        if _is_post(path) and (everything or path not in posts or posts[path].blob != blob)
    }
    gone = [path for path in posts if path not in tree or not _is_post(path)]
    plan = _plan(candidates, gone, posts, find_moves=not everything)
    if everything:
        plan.read.sort(key=lambda entry: entry[0] in posts and posts[entry[0]].item_id is None, reverse=True)
    return plan


def plan_diff(changes: Sequence[Change], posts: Mapping[str, GitPost]) -> Plan:
    """What `git diff-tree --raw` between the last commit seen and the head asks to do."""
    candidates: dict[str, str] = {}
    gone: list[str] = []
    for change in changes:
        if change.old_path is not None:
            gone.append(change.old_path)
        if change.blob is None or not _is_post(change.path):
            gone.append(change.path)
        else:
            candidates[change.path] = change.blob
    return _plan(candidates, gone, posts)


def _plan(
    candidates: Mapping[str, str], gone: Sequence[str], posts: Mapping[str, GitPost], *, find_moves: bool = True
) -> Plan:
    vanished = [path for path in dict.fromkeys(gone) if path in posts and path not in candidates]
    by_blob: dict[str, list[str]] = {}
    for path in vanished if find_moves else ():
        by_blob.setdefault(posts[path].blob, []).append(path)
    moved: list[tuple[str, str]] = []
    read: list[tuple[str, str]] = []
    for path, blob in candidates.items():
        same = by_blob.get(blob)
        if same:
            moved.append((same.pop(0), path))
        else:
            read.append((path, blob))
    moved_from = {old for old, _ in moved}
    read.sort(key=_reading_order, reverse=True)
    return Plan(read=read, moved=moved, gone=[path for path in vanished if path not in moved_from])


def apply(
    posts: Mapping[str, GitPost], plan: Plan, read: Mapping[str, GitPost], *, finished: bool
) -> tuple[dict[str, GitPost], list[str]]:
    """The posts after this poll, and the posts deleted at the source ("path (item id)").

    Vanished paths are let go only once every read of the plan is done (`finished`): until then a
    post moved and edited might still turn up at a path not read yet.
    """
    after = dict(posts)
    for old, new in plan.moved:
        after[new] = after.pop(old)
    after.update(read)
    if not finished:
        return after, []
    for path in plan.gone:
        after.pop(path, None)
    remaining = {post.item_id for post in after.values()}
    deleted = [
        f"{path} (item {item})"
        for path in plan.gone
        if (item := posts[path].item_id) is not None and item not in remaining
    ]
    return after, deleted


def list_items(source: SourceConfig, state: SourceState, context: PollContext) -> Listing:
    cursor = GitCursor.model_validate(state.cursor) if state.cursor else GitCursor()
    mirror = Mirror(context.work_dir("git") / f"{source.id}.git", timeout_s=context.settings.git_timeout_s)
    remote = Remote(url=source.url or str(source.path), trusted=source.trusted, policy=context.policy)
    head = mirror.fetch(remote, source.branch)
    if cursor.complete and cursor.commit == head and not context.force:
        return Listing(state=state, not_modified=True)
    paths = pathspec(source.paths)
    if _can_diff(cursor, head, mirror, source) and not context.force:
        assert cursor.commit is not None
        plan = plan_diff(mirror.diff(cursor.commit, head, paths), cursor.posts)
    else:
        tree = mirror.tree(head, paths)
        if not tree:
            log.warning(
                "%s has no files under %s at %s", shown(remote.url), paths or ".", head, extra={"source_id": source.id}
            )
        plan = plan_tree(tree, cursor.posts, everything=context.force)
    listing = Listing(state=state)
    read = _read(plan.read, source, context, mirror, head, listing) if plan.read else {}
    posts, listing.deleted = apply(cursor.posts, plan, read, finished=listing.deferred == 0)
    listing.fetched = len(read) + len(plan.moved)
    listing.unchanged = len(plan.moved)
    updated = GitCursor(commit=head, complete=listing.deferred == 0, posts=posts)
    listing.state = state.model_copy(update={"cursor": updated.model_dump()})
    return listing


def _can_diff(cursor: GitCursor, head: str, mirror: Mirror, source: SourceConfig) -> bool:
    """Whether the changes since the last commit seen are a diff away (else: compare the whole tree)."""
    if cursor.commit is None or not cursor.complete:
        return False
    if not mirror.has_commit(cursor.commit) or not mirror.is_ancestor(cursor.commit, head):
        log.warning(
            "the history of %s was rewritten (commit %s is no longer in it): comparing the tree with what was read",
            source.location,
            cursor.commit,
            extra={"source_id": source.id},
        )
        return False
    return True


def _read(
    wanted: Sequence[tuple[str, str]],
    source: SourceConfig,
    context: PollContext,
    mirror: Mirror,
    head: str,
    listing: Listing,
) -> dict[str, GitPost]:
    """Read and parse `wanted` posts within the poll's caps; what is left is counted as deferred."""
    read: dict[str, GitPost] = {}
    info = source.info()
    batch = wanted[: context.max_items]
    listing.deferred = len(wanted) - len(batch)
    with BlobReader(mirror, [blob for _, blob in batch], max_bytes=context.max_item_bytes) as reader:
        for position, (path, blob) in enumerate(zip([path for path, _ in batch], reader, strict=True)):
            listing.read += 1
            read[path] = _parsed(path, blob, info, context, head, listing)
            if context.out_of_time() and position + 1 < len(batch):
                listing.deferred += len(batch) - position - 1
                break
    return read


def _parsed(path: str, blob: Blob, info: SourceInfo, context: PollContext, head: str, listing: Listing) -> GitPost:
    """The post at `path` parsed into `listing` (an item, or a dead letter saying why); what to remember of it."""
    details = {"path": path, "commit": head, "blob": blob.sha}
    if not blob.complete:
        reason = f"{path}: {blob.size} bytes, over the limit of {context.max_item_bytes} bytes for a post"
        listing.rejected.append(_rejected(path, "ParseError", reason, blob.data, details))
        return GitPost(blob=blob.sha)
    try:
        item = jekyll.parse(blob.data, info, path=path, fetched_at=context.now, max_bytes=context.max_item_bytes)
    except PermanentError as exc:
        listing.rejected.append(_rejected(path, type(exc).__name__, str(exc), blob.data, details))
        return GitPost(blob=blob.sha)
    listing.items.append(item)
    return GitPost(blob=blob.sha, item_id=item.item_id)


def _rejected(path: str, error_type: str, reason: str, payload: bytes, details: dict[str, str]) -> Rejected:
    return Rejected(
        where=PurePosixPath(path).name, error_type=error_type, reason=reason, payload=payload, details=details
    )
