"""Polling against the real broker: hostile input is dead-lettered with its reason while the rest
goes on; state is durable; caps hold; a failing source is recorded and backed off, never disabled."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from pipeline import deadletters, kafka
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.errors import ParseError
from pipeline.sources.catalog import load_sources
from pipeline.state import StateStore

pytestmark = pytest.mark.services

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HOSTILE_POSTS = {
    "alias_bomb.md": "alias",
    "binary.bin": "binary",
    "gbk_encoded.md": "UTF-8",
    "invalid_yaml.md": "YAML",
    "no_front_matter.md": "front matter",
    "unclosed_front_matter.md": "front matter",
    "unsafe_yaml_tag.md": "python/object",
}
BAD_FEEDS = {
    "billion_laughs.xml": "entit",
    "quadratic_blowup.xml": "entit",
    "xxe_file.xml": "entit",
    "broken.xml": "",
    "not_a_feed.html": "",
}


def _sources(tmp: Path, entries: list[dict[str, object]]) -> Path:
    common = {"outlet": "测试", "category": "test", "trusted": True}
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [{**common, **e} for e in entries]}, allow_unicode=True))
    return path


def _raw_count(settings: Settings) -> int:
    return sum(kafka.end_offsets(settings, settings.topic_raw).values())


def test_hostile_posts_are_dead_lettered_and_the_rest_goes_on(isolated: Settings, tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    for name in [*HOSTILE_POSTS, "seed.txt", "list_fields.md"]:
        shutil.copy(FIXTURES / "posts" / name, posts / name)
    (posts / "huge.md").write_bytes(b"---\ntitle: big\n---\n" + b"<p>" + "长".encode() * 1_000_000 + b"</p>")
    settings = isolated.model_copy(
        update={"sources": _sources(tmp_path, [{"id": "posts", "type": "jekyll", "path": str(posts)}])}
    )
    kafka.ensure_topics(settings)
    (source,) = load_sources(settings.sources)
    emitter = KafkaEmitter(settings)
    try:
        report = poll_one(settings, source, emitter)
        again = poll_one(settings, source, emitter)
    finally:
        emitter.close()

    assert (report.new, report.failed) == (2, len(HOSTILE_POSTS) + 1)
    assert _raw_count(settings) == 2
    letters = {Path(str(letter.details["path"])).name: letter for letter in deadletters.read(settings)}
    assert set(letters) == {*HOSTILE_POSTS, "huge.md"}
    for name, words in {**HOSTILE_POSTS, "huge.md": "over the limit"}.items():
        letter = letters[name]
        assert letter.stage.value == "poll" and letter.source_id == "posts"
        assert words.lower() in letter.error_message.lower(), (name, letter.error_message)
    assert not Path("/tmp/newsflow-pwned").exists()
    print("\n" + "\n".join(f"[bad post] {n}: {letters[n].error_message}" for n in sorted(letters)))

    # unchanged files are neither re-read nor re-pushed, and the state survives a new process
    assert (again.new, again.unchanged, again.failed) == (0, report.fetched, 0)
    assert len(StateStore(settings.state_dir).load("posts").pushed) == 2  # read back from disk
    (posts / "seed.txt").write_bytes(
        (posts / "seed.txt").read_bytes().replace("综试区".encode(), "综合试验区".encode())
    )
    emitter = KafkaEmitter(settings)
    try:
        changed = poll_one(settings, source, emitter)
    finally:
        emitter.close()
    assert (changed.new, changed.unchanged) == (1, report.fetched - 1)


@pytest.mark.parametrize("name", sorted(BAD_FEEDS))
def test_bad_feeds_fail_the_poll_with_a_reason_and_are_backed_off(
    isolated: Settings, tmp_path: Path, name: str
) -> None:
    feed = tmp_path / name
    shutil.copy(FIXTURES / "feeds" / name, feed)
    settings = isolated.model_copy(
        update={"sources": _sources(tmp_path, [{"id": "bad", "type": "feed", "url": feed.as_uri()}])}
    )
    kafka.ensure_topics(settings)
    (source,) = load_sources(settings.sources)
    emitter = KafkaEmitter(settings)
    try:
        with pytest.raises(ParseError) as first:
            poll_one(settings, source, emitter)
        with pytest.raises(ParseError):
            poll_one(settings, source, emitter, force=True)
    finally:
        emitter.close()
    assert BAD_FEEDS[name] in str(first.value).lower()
    state = StateStore(settings.state_dir).load("bad")
    assert state.consecutive_failures == 2 and state.next_attempt_at and state.last_error
    assert _raw_count(settings) == 0
    print(f"\n[bad feed] {name}: {first.value}")


def test_items_per_poll_cap_defers_the_rest(isolated: Settings, tmp_path: Path) -> None:
    posts = tmp_path / "posts"
    posts.mkdir()
    seed = (FIXTURES / "posts" / "seed.txt").read_text(encoding="utf-8")
    for n in range(5):
        (posts / f"{n}.md").write_text(seed.replace("NW202205052369313688", f"NW2022050523693136{n:02d}"))
    settings = isolated.model_copy(
        update={
            "max_items_per_poll": 2,
            "sources": _sources(tmp_path, [{"id": "capped", "type": "jekyll", "path": str(posts)}]),
        }
    )
    kafka.ensure_topics(settings)
    (source,) = load_sources(settings.sources)
    emitter = KafkaEmitter(settings)
    try:
        reports = [poll_one(settings, source, emitter) for _ in range(3)]
    finally:
        emitter.close()
    assert [(r.new, r.deferred) for r in reports] == [(2, 3), (2, 1), (1, 0)]
    assert _raw_count(settings) == 5
