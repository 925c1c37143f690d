"""`type: git` sources against the real broker: a repository of real posts (copied from `../shared/data`
into a temp repo at test time) changes over several commits, and each poll must push exactly what
changed, read back from the raw topic by id.

What a poll should push is worked out from first principles, not written down: a file that changed
is read, and it is pushed when it parses (the post parser decides) and its content differs from what
the topic last received for its id. Posts that only moved, or are unchanged, are never pushed again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from kafka import TopicPartition

from pipeline import deadletters, kafka
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import ParseError
from pipeline.poll import PollReport, poll_source
from pipeline.sources import jekyll
from pipeline.sources.catalog import SourceConfig, load_sources
from pipeline.state import SourceState, StateStore
from pipeline.tasks import poll_task
from schemas.models import RawItem
from tests.support.git_repos import REPO, WorkRepo, corpus, finews

pytestmark = pytest.mark.services

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PATHS = ["_posts", "old_post", "source/_posts"]
# the 7 posts the real mirror keeps both in _posts/ and (formatted differently) in old_post/
PAIRED = [
    "2021-12-08-202112082206672930.md",
    "2021-12-08-202112082206703990.md",
    "2021-12-08-202112082206727327.md",
    "2021-12-08-202112082206736819.md",
    "2021-12-08-202112082206885586.md",
    "2021-12-08-202112082206890958.md",
    "2021-12-08-202112082206891339.md",
]


def _plain_finews(count: int, skip: int = 0) -> list[str]:
    names = sorted(
        p.name for p in (corpus() / "finews").iterdir() if p.name.startswith("2021-12-08-") and p.name not in PAIRED
    )
    return names[skip : skip + count]


def _hexo(count: int) -> list[str]:
    return sorted(p.name for p in (corpus() / "rsshub-page").iterdir())[:count]


def _configure(settings: Settings, tmp_path: Path, repo: Path, **extra: object) -> tuple[Settings, SourceConfig]:
    entry = {
        "id": "finews-git",
        "type": "git",
        "url": repo.as_uri(),
        "paths": PATHS,
        "branch": "main",
        "outlet": "东方财富",
        "category": "emnews",
        "trusted": True,
        **extra,
    }
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [entry]}, allow_unicode=True), encoding="utf-8")
    settings = settings.model_copy(update={"sources": path})
    kafka.ensure_topics(settings)
    (source,) = load_sources(path)
    return settings, source


def _raw_items(settings: Settings) -> list[RawItem]:
    """Every message of the raw topic, from the beginning."""
    ends = kafka.end_offsets(settings, settings.topic_raw)
    consumer = kafka.consumer(settings, None)
    items: list[RawItem] = []
    try:
        partitions = [TopicPartition(settings.topic_raw, p) for p in ends]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        position = dict.fromkeys(ends, 0)
        while any(position[p] < ends[p] for p in ends):
            polled = consumer.poll(timeout_ms=5_000)
            assert polled, f"the raw topic stopped short of its end offsets {ends} at {position}"
            for tp, records in polled.items():
                for record in records:
                    position[tp.partition] = record.offset + 1
                    if record.offset < ends[tp.partition]:
                        items.append(RawItem.model_validate_json(record.value))
    finally:
        consumer.close()
    return items


class Topic:
    """What the raw topic received since the last look."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seen: Counter[str] = Counter()
        self.last_hash: dict[str, str] = {}

    def new(self) -> Counter[str]:
        items = _raw_items(self.settings)
        every = Counter(item.item_id for item in items)
        fresh = every - self.seen
        self.seen = every
        for item in items:
            self.last_hash[item.item_id] = item.content_hash
        return fresh


def _item(data: bytes, source: SourceConfig, path: str) -> RawItem | None:
    try:
        return jekyll.parse(data, source.info(), path=path, fetched_at=datetime.now(UTC))
    except ParseError:
        return None


def _expected(repo: WorkRepo, paths: list[str], source: SourceConfig, last_hash: dict[str, str]) -> Counter[str]:
    """The ids a poll that reads `paths` (at the repo's head) must push: parseable, and not on the topic as they are."""
    wanted: dict[str, str] = {}
    for path in paths:
        item = _item(repo.read(path), source, path)
        if item is not None and last_hash.get(item.item_id) != item.content_hash:
            wanted[item.item_id] = item.content_hash
    return Counter(wanted.keys())


def _unparseable(repo: WorkRepo, paths: list[str], source: SourceConfig) -> int:
    return sum(_item(repo.read(path), source, path) is None for path in paths)


def _posts_at_head(repo: WorkRepo, source: SourceConfig) -> dict[str, str | None]:
    """Every post file under PATHS in the working tree (hidden ones aside) -> the id it parses to."""
    found: dict[str, str | None] = {}
    for folder in PATHS:
        for file in (repo.path / folder).rglob("*"):
            relative = file.relative_to(repo.path).as_posix()
            if file.is_file() and not any(part.startswith(".") for part in relative.split("/")):
                item = _item(file.read_bytes(), source, relative)
                found[relative] = item.item_id if item else None
    return found


def _deleted(before: dict[str, str | None], after: dict[str, str | None]) -> int:
    """Paths gone whose post no path holds any more: what the poll must report deleted."""
    remaining = {item for item in after.values() if item}
    return sum(1 for path, item in before.items() if path not in after and item and item not in remaining)


def _poll(settings: Settings, source: SourceConfig, store: StateStore | None = None) -> PollReport:
    emitter = KafkaEmitter(settings)
    try:
        return poll_source(source, settings, emitter, store or StateStore(settings.state_dir), force=False)
    finally:
        emitter.close()


def _retitled(data: bytes, prefix: str) -> bytes:
    edited = data.replace(b'title: "', f'title: "{prefix}'.encode(), 1)
    assert edited != data
    return edited


def test_each_poll_pushes_exactly_what_changed(isolated: Settings, tmp_path: Path) -> None:
    repo = WorkRepo(tmp_path / "finews")
    settings, source = _configure(isolated, tmp_path, repo.path)
    topic = Topic(settings)

    # 1. the mirror as first seen: 20 wire posts, the 7 later moved, 4 Hexo posts, a hostile file
    first = [f"_posts/{n}" for n in [*_plain_finews(20), *PAIRED]]
    for path in first:
        repo.write(path, finews(path.split("/")[1]))
    hexo = [f"source/_posts/金融/{n}" for n in _hexo(4)]
    for path in hexo:
        repo.write(path, (corpus() / "rsshub-page" / path.rsplit("/", 1)[1]).read_bytes())
    repo.write("_posts/alias_bomb.md", (FIXTURES / "posts" / "alias_bomb.md").read_bytes())
    repo.write("README.md", b"not a post: outside the paths\n")
    repo.write("_posts/.draft.md", b"hidden: never read\n")
    repo.commit("mirror: first posts")
    read_first = [*first, *hexo, "_posts/alias_bomb.md"]
    expected = _expected(repo, read_first, source, topic.last_hash)
    report = _poll(settings, source)
    assert topic.new() == expected
    assert (report.read, report.new, report.failed) == (
        len(read_first),
        sum(expected.values()),
        _unparseable(repo, read_first, source),
    )
    letters = list(deadletters.read(settings))
    assert len(letters) == report.failed and any("alias" in letter.error_message for letter in letters)
    assert {letter.details["path"] for letter in letters} <= set(read_first)
    print(f"\n[git poll 1] {report.line()}")

    # 2. adds, pure moves to old_post/, moves with the old_post/ version's text, an edit, a delete
    parseable = [p for p in first[:20] if (item := _item(repo.read(p), source, p)) and item.url]
    edited, deleted, rewritten = parseable[:3]
    before = _posts_at_head(repo, source)
    added = [f"_posts/{n}" for n in _plain_finews(6, skip=20)]
    for path in added:
        repo.write(path, finews(path.split("/")[1]))
    pure_moves, edited_moves = PAIRED[4:6], [PAIRED[6], PAIRED[0]]
    for name in pure_moves:
        repo.move(f"_posts/{name}", f"old_post/{name}")
    for name in edited_moves:
        repo.move(f"_posts/{name}", f"old_post/{name}")
        repo.write(f"old_post/{name}", finews(f"old_post_{name}"))
    repo.write(edited, _retitled(repo.read(edited), "更新："))
    deleted_id = before[deleted]
    repo.delete(deleted)
    repo.commit("mirror: hourly update")
    read_second = [*added, *(f"old_post/{n}" for n in edited_moves), edited]
    expected = _expected(repo, read_second, source, topic.last_hash)
    moved_ids = {before[f"_posts/{n}"] for n in pure_moves} - {None}
    report = _poll(settings, source)
    fresh = topic.new()
    assert fresh == expected
    assert moved_ids and not moved_ids & set(fresh), "a post that only moved was pushed again"
    assert before[edited] in fresh
    assert (report.read, report.fetched) == (len(read_second), len(read_second) + len(pure_moves))
    assert report.deleted == _deleted(before, _posts_at_head(repo, source)) == 1
    print(f"[git poll 2] {report.line()}")
    state = StateStore(settings.state_dir).load(source.id)
    assert deleted_id not in {post["item_id"] for post in state.cursor["posts"].values()}
    assert deleted_id in state.pushed  # the document stays; only the log says the post is gone

    # 3. a commit outside the paths: nothing read, nothing pushed; then no commit at all
    repo.write("README.md", b"updated readme\n")
    repo.commit("docs")
    report = _poll(settings, source)
    assert (report.read, report.new, topic.new()) == (0, 0, Counter())
    report = _poll(settings, source)
    assert report.not_modified and topic.new() == Counter()

    # 4. a force push: history rebuilt from the first commit, with one more post and one edit
    before = _posts_at_head(repo, source)
    first_commit = repo.git("rev-list", "--max-parents=0", "HEAD")
    repo.git("reset", "--quiet", "--hard", first_commit)
    extra = f"_posts/{_plain_finews(1, skip=30)[0]}"
    repo.write(extra, finews(extra.split("/")[1]))
    repo.write(rewritten, _retitled(repo.read(rewritten), "重写："))
    repo.commit("mirror: rebuilt history")
    # what differs from what was read: the pairs moved back (the edited ones with their older text),
    # the edit undone, the deleted post restored, the rewritten post and the new one
    back_pure = [f"_posts/{n}" for n in pure_moves]  # the bytes read before the move: nothing to read
    reread = [*(f"_posts/{n}" for n in edited_moves), edited, deleted, rewritten, extra]
    expected = _expected(repo, reread, source, topic.last_hash)
    report = _poll(settings, source)
    fresh = topic.new()
    assert fresh == expected
    assert deleted_id not in fresh, "a restored post whose text was already pushed was pushed again"
    assert (report.read, report.fetched) == (len(reread), len(reread) + len(back_pure))
    assert report.deleted == _deleted(before, _posts_at_head(repo, source)) >= 1
    print(f"[git poll 4, rewritten history] {report.line()}")


def test_first_poll_is_bounded_by_the_item_cap_and_continues(isolated: Settings, tmp_path: Path) -> None:
    repo = WorkRepo(tmp_path / "finews")
    names = _plain_finews(25)
    for name in names:
        repo.write(f"_posts/{name}", finews(name))
    repo.commit("mirror: 25 posts")
    settings, source = _configure(isolated.model_copy(update={"max_items_per_poll": 10}), tmp_path, repo.path)
    topic = Topic(settings)
    newest = [f"_posts/{n}" for n in sorted(names, reverse=True)[:10]]

    reports = [_poll(settings, source)]
    assert topic.new() == _expected(repo, newest, source, {}), "Jekyll names start with the date: newest first"
    later = _plain_finews(1, skip=40)[0]  # a commit lands while the first read is not finished
    repo.write(f"_posts/{later}", finews(later))
    repo.commit("mirror: one more")
    reports += [_poll(settings, source), _poll(settings, source), _poll(settings, source)]

    assert [(r.read, r.deferred) for r in reports] == [(10, 15), (10, 6), (6, 0), (0, 0)]
    assert reports[3].not_modified
    every = _expected(repo, [f"_posts/{n}" for n in [*names, later]], source, {})
    assert topic.new() + _expected(repo, newest, source, {}) == every, "each post pushed once across the polls"
    print("\n[git cap] " + " | ".join(r.line() for r in reports))


class CrashAfterPush(StateStore):
    """The process dies after Kafka acknowledged the poll's messages, before the state is written."""

    def save(self, source_id: str, state: SourceState) -> None:
        raise KeyboardInterrupt("killed between push and state save")


def test_a_crash_between_push_and_state_save_pushes_again(isolated: Settings, tmp_path: Path) -> None:
    repo = WorkRepo(tmp_path / "finews")
    names = _plain_finews(8)
    for name in names[:5]:
        repo.write(f"_posts/{name}", finews(name))
    repo.commit("first")
    settings, source = _configure(isolated, tmp_path, repo.path)
    topic = Topic(settings)
    _poll(settings, source)
    topic.new()

    for name in names[5:]:
        repo.write(f"_posts/{name}", finews(name))
    repo.commit("second")
    expected = _expected(repo, [f"_posts/{n}" for n in names[5:]], source, topic.last_hash)
    assert expected, "the chosen posts parse"
    with pytest.raises(KeyboardInterrupt):
        _poll(settings, source, CrashAfterPush(settings.state_dir))
    assert topic.new() == expected  # pushed and acknowledged ...
    report = _poll(settings, source)  # ... but not remembered: the next poll pushes them again
    assert topic.new() == expected and report.new == sum(expected.values())
    assert _poll(settings, source).not_modified and topic.new() == Counter()


def test_a_lost_mirror_is_fetched_again_and_only_new_posts_are_read(isolated: Settings, tmp_path: Path) -> None:
    repo = WorkRepo(tmp_path / "finews")
    names = _plain_finews(6)
    for name in names[:5]:
        repo.write(f"_posts/{name}", finews(name))
    repo.commit("first")
    settings, source = _configure(isolated, tmp_path, repo.path)
    topic = Topic(settings)
    first = _poll(settings, source)
    topic.new()
    shutil.rmtree(settings.state_dir / "git")  # the clone is gone; the state (last commit, posts read) is not
    repo.write(f"_posts/{names[5]}", finews(names[5]))
    repo.commit("second")
    expected = _expected(repo, [f"_posts/{names[5]}"], source, topic.last_hash)
    again = _poll(settings, source)
    assert (first.read, again.read) == (5, 1) and topic.new() == expected


def test_the_sources_dag_and_its_task_body_poll_a_git_source(
    isolated: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DAG file needs nothing but the source in the list: its schedule's DAG names it; the task body polls it."""
    repo = WorkRepo(tmp_path / "finews")
    names = _plain_finews(5)
    for name in names:
        repo.write(f"_posts/{name}", finews(name))
    repo.commit("first")
    settings, source = _configure(isolated, tmp_path, repo.path)
    script = (
        "import json, sys; from airflow.dag_processing.dagbag import DagBag\n"
        "bag = DagBag(dag_folder=sys.argv[1])\n"
        "dag = bag.dags.get('poll__hourly')\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'tags': sorted(dag.tags) if dag else None, 'doc': dag.doc_md if dag else None}, ensure_ascii=False))\n"
    )
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    env["NEWSFLOW_SOURCES"] = str(settings.sources)
    env["NEWSFLOW_STATE_DIR"] = str(settings.state_dir)
    dags = REPO / "dags"
    out = subprocess.run([sys.executable, "-c", script, str(dags)], env=env, capture_output=True, text=True, check=True)
    parsed = json.loads(out.stdout.strip().splitlines()[-1])
    assert parsed["errors"] == {} and parsed["tags"] == sorted({"newsflow", "poll", "git"})
    assert f"`finews-git`: git at `{repo.path.as_uri()}` · 东方财富 · emnews" in parsed["doc"]

    for name, value in settings.as_env().items():
        monkeypatch.setenv(name, value)
    topic = Topic(settings)
    counts = poll_task(source.id)
    assert counts["read"] == len(names) and topic.new() == _expected(repo, [f"_posts/{n}" for n in names], source, {})
    assert poll_task(source.id)["not_modified"] is True
