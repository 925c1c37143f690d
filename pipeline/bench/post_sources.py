"""What polling a large post mirror costs: a git source and a folder source, first poll against later polls.

    python -m pipeline.bench.post_sources --posts 16000 [--corpus ../shared/data]

Builds, in a temp dir, a git repository of N posts made from the real posts of the corpus (each copy
under a new name, with its title and link made unique, so N distinct stories), then polls it through
the real poll code into fresh Kafka topics of the local stack (removed afterwards):

- git: the first read (as many polls as the item cap needs), a commit of the mirror's hourly kind
  (new posts, edits, posts archived from `_posts/` to `old_post/`, deletes), a poll with nothing
  new, and a force push (the tree compared blob by blob);
- folder (`type: jekyll`) on the same working tree (its `.git` included): first poll, a poll with
  nothing changed, and one after the same kind of commit.

Each line gives wall and CPU seconds (this process and git's), posts read and items pushed. Nothing
here is asserted: it is measured.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline import kafka
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.poll import PollReport, poll_source
from pipeline.sources.catalog import SourceConfig, parse_sources
from pipeline.state import StateStore

DEFAULT_CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data"
_TITLE = re.compile(rb"^(title:[ \t]*)([\"']?)", re.MULTILINE)
_LINK = re.compile(rb"^<(https?://[^>\s]+)>", re.MULTILINE)


def _real_posts(corpus: Path) -> list[bytes]:
    files = sorted(p for folder in ("finews", "rsshub-page") for p in (corpus / folder).glob("*.md"))
    if not files:
        raise SystemExit(f"no posts under {corpus}: pass --corpus (the folder with finews/ and rsshub-page/)")
    return [p.read_bytes() for p in files]


def _copy(post: bytes, n: int) -> bytes:
    """The post as story n: a title and a link of its own (ids come from the link, else the title)."""
    post = _TITLE.sub(lambda m: m.group(1) + m.group(2) + f"{n} ".encode(), post, count=1)
    return _LINK.sub(lambda m: b"<" + m.group(1) + (b"&" if b"?" in m.group(1) else b"?") + f"copy={n}>".encode(), post)


class Repo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.clock = 1_638_950_400
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        self.clock += 60
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.path),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@newsflow.invalid",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@newsflow.invalid",
            "GIT_AUTHOR_DATE": f"{self.clock} +0800",
            "GIT_COMMITTER_DATE": f"{self.clock} +0800",
        }
        done = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, check=True)
        return done.stdout.decode().strip()

    def commit(self, message: str) -> None:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)


def _name(n: int) -> str:
    day = 1 + n % 28
    return f"2021-12-{day:02d}-bench{n:06d}.md"


@contextmanager
def _topics(settings: Settings) -> Iterator[Settings]:
    run = uuid.uuid4().hex[:8]
    scoped = settings.model_copy(
        update={
            "topic_raw": f"nfsrc{run}.news.raw",
            "topic_articles": f"nfsrc{run}.news.articles",
            "topic_deadletter": f"nfsrc{run}.news.deadletter",
        }
    )
    kafka.ensure_topics(scoped)
    try:
        yield scoped
    finally:
        with kafka.admin(scoped) as admin:
            admin.delete_topics(list(scoped.topics))


def _poll(settings: Settings, source: SourceConfig, label: str) -> PollReport:
    emitter = KafkaEmitter(settings)
    try:
        start, cpu = time.perf_counter(), _cpu()
        report = poll_source(source, settings, emitter, StateStore(settings.state_dir))
        seconds, cpu_seconds = time.perf_counter() - start, _cpu() - cpu
    finally:
        emitter.close()
    print(
        f"{label:<62} {seconds:7.2f} s  cpu {cpu_seconds:6.2f} s  read {report.read:>5}  pushed {report.new:>5}  "
        f"dead letters {report.failed:>4}  deferred {report.deferred:>5}  deleted {report.deleted:>3}",
        flush=True,
    )
    return report


def _cpu() -> float:
    """CPU seconds of this process and of the children it waited for (git), so far."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _hourly_commit(repo: Repo, posts: list[bytes], total: int, rng: random.Random, *, new: int = 20) -> None:
    """What the mirror's job does in an hour: new posts, a few edits, archiving to old_post/, a delete."""
    current = sorted((repo.path / "_posts").iterdir())
    for n in range(total, total + new):
        (repo.path / "_posts" / _name(n)).write_bytes(_copy(posts[n % len(posts)], n))
    for path in rng.sample(current, 5):
        path.write_bytes(path.read_bytes().replace(b"title: ", b"title: (updated) ", 1))
    archived = rng.sample(current, 200)
    for path in archived:
        path.rename(repo.path / "old_post" / path.name)
    for path in rng.sample(sorted(set(current) - set(archived)), 2):
        path.unlink()
    repo.commit("mirror: hourly update")


def _first_read(settings: Settings, source: SourceConfig, kind: str) -> None:
    """Poll until the first read of the source is complete (a poll reads a capped share and defers the rest)."""
    polls = 0
    report = _poll(settings, source, f"{kind}: first poll #{polls + 1}")
    while report.deferred:
        polls += 1
        report = _poll(settings, source, f"{kind}: first read continued, poll #{polls + 1}")


def run(settings: Settings, corpus: Path, count: int) -> None:
    posts = _real_posts(corpus)
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="newsflow-bench-sources-") as tmp, _topics(settings) as scoped:
        base = Path(tmp)
        repo = Repo(base / "mirror")
        (repo.path / "_posts").mkdir()
        (repo.path / "old_post").mkdir()
        for n in range(count):
            folder = "_posts" if n % 10 < 7 else "old_post"
            (repo.path / folder / _name(n)).write_bytes(_copy(posts[n % len(posts)], n))
        start = time.perf_counter()
        repo.commit("mirror: all posts")
        print(f"built a repository of {count} posts from {len(posts)} real ones in {time.perf_counter() - start:.1f} s")
        print(f"item cap {settings.max_items_per_poll} per poll, {settings.max_poll_seconds:g} s per poll\n")

        common = {"outlet": "bench", "category": "bench", "trusted": True}
        git_source, folder_source = parse_sources(
            {
                "sources": [
                    {
                        "id": "bench-git",
                        "type": "git",
                        "path": str(repo.path),
                        "paths": ["_posts", "old_post"],
                        **common,
                    },
                    {"id": "bench-folder", "type": "jekyll", "path": str(repo.path), **common},
                ]
            },
            base,
        )
        state = scoped.model_copy(update={"state_dir": base / "state"})

        _first_read(state, git_source, "git")
        _poll(state, git_source, "git: nothing new")
        _hourly_commit(repo, posts, count, rng)
        _poll(state, git_source, "git: hourly commit (20 new, 5 edited, 200 moved, 2 deleted)")
        _poll(state, git_source, "git: nothing new")
        repo.git("reset", "--quiet", "--hard", "HEAD~1")
        for n in range(count + 1000, count + 1020):
            (repo.path / "_posts" / _name(n)).write_bytes(_copy(posts[n % len(posts)], n))
        repo.commit("mirror: history rewritten")
        _poll(state, git_source, "git: force push (tree compared, 20 new)")

        _first_read(state, folder_source, "folder")
        _poll(state, folder_source, "folder: nothing changed")
        _hourly_commit(repo, posts, count + 2000, rng)
        _poll(state, folder_source, "folder: hourly commit (20 new, 5 edited, 200 moved, 2 deleted)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.bench.post_sources", description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=16_000, help="posts in the mirror (default 16000)")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with finews/ and rsshub-page/")
    args = parser.parse_args(argv)
    logging.getLogger("newsflow").setLevel(logging.ERROR)  # one line per poll here, not one per deleted post
    run(Settings(), args.corpus, args.posts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
