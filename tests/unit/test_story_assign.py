"""Assigning a batch to stories (pure): known records, stored candidates, the batch's own copies, the recheck."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pipeline.stories.assign import Decision, Move, Record, candidates_among, first_pass, ranked, recheck
from pipeline.stories.match import TITLE_WINDOW, Reason
from pipeline.stories.sketch import Fingerprint, fingerprint

AT = datetime(2024, 3, 27, 8, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
STORY = (
    "海关总署今日发布数据，今年前两个月我国货物贸易进出口总值同比增长，其中出口增长快于进口，"
    "民营企业进出口占比继续提升，机电产品出口保持较快增长，对东盟贸易规模再创新高。"
)
OTHER = "央行今日以利率招标方式开展逆回购操作，中标利率与上次持平，当日实现资金净投放，市场流动性保持合理充裕。"


def fp(article_id: str, body: str = STORY, title: str = "前两月外贸进出口增长") -> Fingerprint:
    return fingerprint(article_id, title, body, AT)


def test_a_known_article_keeps_its_story() -> None:
    decisions = first_pass([fp("x")], {"x": Record(fp("x"), "s0")}, {}, WEEK)
    assert decisions == {"x": Decision("s0", "known")}


def test_a_copy_joins_the_story_of_its_first_verified_candidate() -> None:
    candidates = {"x": [Record(fp("o", OTHER, "逆回购"), "s9"), Record(fp("c"), "s1")]}
    decisions = first_pass([fp("x")], {}, candidates, WEEK)
    assert decisions["x"] == Decision("s1", "text", "c")


def test_copies_within_a_batch_share_the_first_ones_story() -> None:
    batch = [fp("a"), fp("b", OTHER, "逆回购"), fp("c", STORY + "（新华社）"), fp("a")]
    decisions = first_pass(batch, {}, {}, WEEK)
    assert decisions["a"] == Decision("a", "founded")
    assert decisions["b"].founded and decisions["c"] == Decision("a", "text", "a")
    assert len(decisions) == 3  # the repeated id is decided once


def _keyed(article_id: str, bands: tuple[str, ...], values: range, title: str = "", hours: int = 0) -> Fingerprint:
    """A fingerprint with the keys and bottom-k chosen here (the sketches of texts cannot be made to share
    exactly these)."""
    return Fingerprint.of(article_id, AT + timedelta(hours=hours), len(values), tuple(values), bands, title, ())


def test_every_earlier_article_with_a_shared_key_is_a_candidate() -> None:
    # k1 is shared by three articles: c sees both a (unrelated) and b (its copy) through it.
    a, b = _keyed("a", ("k1", "k2"), range(100)), _keyed("b", ("k1", "k3"), range(1000, 1100))
    c, d = _keyed("c", ("k1",), range(1000, 1100)), _keyed("d", ("k1", "k3"), range(1000, 1090))
    decisions = first_pass([a, b, c, d], {}, {}, WEEK)
    assert decisions == {
        "a": Decision("a", "founded"),
        "b": Decision("b", "founded"),  # shares k1 with a, but not its text
        "c": Decision("b", "text", "b"),
        "d": Decision("b", "text", "b"),  # b shares two keys with it: verified before c
    }
    # A shared title counts within hours only: g (1 h) does not see f (14 h), h (13 h) sees f and g, not e.
    e = _keyed("e", ("k4",), range(2000, 2100), "标题")
    f, g = _keyed("f", ("k5",), range(3000, 3100), "标题", 14), _keyed("g", ("k6",), range(3000, 3100), "标题", 1)
    h = _keyed("h", ("k7",), range(3000, 3100), "标题", 13)
    assert first_pass([e, f, g, h], {}, {}, WEEK) == {
        "e": Decision("e", "founded"),
        "f": Decision("f", "founded"),
        "g": Decision("g", "founded"),
        "h": Decision("f", "text", "f"),
    }


def test_candidates_rank_by_shared_keys_then_ids() -> None:
    records = [Record(fp("b"), "s2"), Record(fp("a"), "s2"), Record(fp("c"), "s1")]
    assert [r.article_id for r in ranked(records, {"a": 3, "b": 5, "c": 3})] == ["b", "c", "a"]


def _written(article_id: str, seq_no: int, body: str = STORY) -> Record:
    return Record(fp(article_id, body), article_id, seq_no, 1, AT)


def test_of_two_concurrent_founders_the_later_joins_the_earlier() -> None:
    early, late = _written("x", 5), _written("y", 7)
    roots = {"x": early, "y": late}
    # The later writer sees the earlier one; the earlier may or may not see the later.
    assert recheck([late], {"y": [early]}, roots, WEEK) == {"y": _move("y", "x", "x")}
    assert recheck([early], {"x": [late]}, roots, WEEK) == {}
    assert recheck([early], {"x": []}, roots, WEEK) == {}


def _move(article_id: str, story_id: str, matched: str) -> Move:
    return Move(article_id, story_id, matched, Reason.TEXT)


def test_a_founder_joins_the_earliest_of_several_and_follows_moved_stories() -> None:
    founder = _written("z", 20)
    member_of_moved = Record(fp("m"), "y", 15, 1, AT)  # joined story y, whose founder later joined x
    roots = {"y": _written("x", 3), "w": _written("w", 9)}
    candidates = {"z": [member_of_moved, _written("w", 9)]}
    assert recheck([founder], candidates, roots, WEEK) == {"z": _move("z", "x", "m")}


def test_the_recheck_ignores_its_own_story_and_unverified_candidates() -> None:
    founder = _written("z", 20)
    own = Record(fp("k"), "z", 21, 1, AT)
    unrelated = _written("u", 2, OTHER)
    assert recheck([founder], {"z": [own, unrelated]}, {"z": founder, "u": unrelated}, WEEK) == {}


def test_of_several_verified_candidates_the_earliest_written_wins() -> None:
    later = Record(fp("x", STORY + "（转载）"), "x", 7, 1, AT)  # the closer copy, but founded later
    earlier = Record(fp("t"), "t", 5, 1, AT)
    decisions = first_pass([fp("z", STORY + "（转载）")], {}, {"z": [later, earlier]}, WEEK)
    assert decisions["z"] == Decision("t", "text", "t")  # x, founded after t, joins t on its recheck


def test_a_copy_that_joined_a_later_founded_story_moves_to_the_earliest() -> None:
    joiner = Record(fp("z"), "x", 30, 1, AT)  # joined x, whose record it saw; t was still being written
    roots = {"x": _written("x", 10), "t": _written("t", 5)}
    moves = recheck([joiner], {"z": [_written("t", 5), _written("x", 10)]}, roots, WEEK)
    assert moves == {"z": _move("z", "t", "t")}
    assert recheck([joiner], {"z": [_written("x", 10)]}, roots, WEEK) == {}  # its own story's root is the earliest


def test_candidates_among_recent_records_share_a_key_and_are_ranked_by_how_many() -> None:
    copy, other = Record(fp("c"), "c"), Record(fp("o", OTHER, "另一条新闻"), "o")
    far = Record(fingerprint("f", "前两月外贸进出口增长", STORY, AT + timedelta(days=8)), "f")
    found = candidates_among([fp("x"), fp("c")], [copy, other, far], WEEK)
    assert [r.article_id for r in found["x"]] == ["c"]  # the unrelated text shares no key; the far one is too late
    assert found["c"] == []  # a fingerprint is never its own candidate
    # Only the title is shared: it counts within hours, not beyond.
    late = Record(fingerprint("h", "前两月外贸进出口增长", OTHER, AT + timedelta(hours=13)), "h")
    soon = Record(fingerprint("s", "前两月外贸进出口增长", OTHER, AT + timedelta(hours=1)), "s")
    assert not set(fp("x").bands) & set(late.fingerprint.bands)
    assert [r.article_id for r in candidates_among([fp("x")], [late, soon], WEEK)["x"]] == ["s"]


def _candidates_among_by_the_definition(
    fingerprints: list[Fingerprint], records: list[Record], window: timedelta, limit: int
) -> dict[str, list[Record]]:
    """The ranking as the docstring defines it, one record at a time."""
    found: dict[str, list[Record]] = {}
    for f in fingerprints:
        shared: dict[str, int] = {}
        for record in records:
            other = record.fingerprint
            count = len(set(f.bands) & set(other.keys))
            if abs(other.at - f.at) <= TITLE_WINDOW:
                count += len(set(f.headline_keys) & set(other.keys))
            if count and record.article_id != f.article_id and abs(other.at - f.at) <= window:
                shared[record.article_id] = count
        near = [r for r in records if r.article_id in shared]
        found[f.article_id] = sorted(near, key=lambda r: (-shared[r.article_id], r.story_id, r.article_id))[:limit]
    return found


def test_candidates_among_many_records_ranks_as_defined() -> None:
    rng = random.Random(7)
    bands = [f"b{band}:{value}" for band in range(10) for value in range(6)]  # few values: keys shared a lot
    heads = ["t:a", "t:b", "f:1", "f:2"]

    def some(article_id: str) -> Fingerprint:
        at = AT + timedelta(hours=rng.choice([-200, -20, -13, -1, 0, 2, 11, 30, 200]))
        own = tuple(sorted(set(rng.sample(bands, rng.randint(0, 10)))))
        head = tuple(rng.sample(heads, rng.randint(0, 2)))
        return Fingerprint(article_id, at, 100, (), own, "", (), head, own + head)

    records = [Record(some(f"r{i}"), f"s{rng.randint(0, 30)}") for i in range(300)]
    batch = [some(f"r{i}") for i in range(0, 40)] + [some(f"n{i}") for i in range(60)]
    for limit in (1, 4, 16):
        assert candidates_among(batch, records, WEEK, limit) == _candidates_among_by_the_definition(
            batch, records, WEEK, limit
        )
