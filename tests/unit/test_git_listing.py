"""The pure part of `type: git` polling: what to read, what moved, what is gone, from a tree or a diff."""

from __future__ import annotations

import pytest

from pipeline.adapters.git import Change, parse_raw_diff, transport
from pipeline.polling.git import GitPost, Plan, apply, pathspec, plan_diff, plan_tree

A, B, C, D = ("a" * 40, "b" * 40, "c" * 40, "d" * 40)


def posts(**entries: tuple[str, str | None]) -> dict[str, GitPost]:
    return {path.replace("__", "/"): GitPost(blob=blob, item_id=item) for path, (blob, item) in entries.items()}


def test_first_poll_reads_every_post_newest_file_name_first_and_skips_hidden_files() -> None:
    tree = {
        "_posts/2021-12-08-x.md": A,
        "old_post/2021-12-01-y.md": B,
        "_posts/2022-05-05-z.md": C,
        "_posts/.draft.md": D,
        "_posts/.hidden/2023-01-01-w.md": D,
    }
    plan = plan_tree(tree, {})
    assert plan == Plan(
        read=[("_posts/2022-05-05-z.md", C), ("_posts/2021-12-08-x.md", A), ("old_post/2021-12-01-y.md", B)]
    )


def test_tree_compare_reads_only_what_differs_finds_moves_and_vanished_posts() -> None:
    before = posts(_posts__same=(A, "i1"), _posts__edited=(B, "i2"), _posts__moved=(C, "i3"), _posts__gone=(D, "i4"))
    tree = {"_posts/same": A, "_posts/edited": "e" * 40, "old_post/moved": C, "_posts/new": "f" * 40}
    plan = plan_tree(tree, before)
    assert sorted(plan.read) == [("_posts/edited", "e" * 40), ("_posts/new", "f" * 40)]
    assert plan.moved == [("_posts/moved", "old_post/moved")]
    assert plan.gone == ["_posts/gone"]


def test_forced_tree_compare_reads_everything_dead_letters_first_and_finds_no_moves() -> None:
    before = posts(_posts__a=(A, "i1"), _posts__b=(B, "i2"), _posts__c=(C, None))
    plan = plan_tree({"_posts/a": A, "old/b": B, "_posts/c": C}, before, everything=True)
    assert plan.read == [("_posts/c", C), ("old/b", B), ("_posts/a", A)]
    assert (plan.moved, plan.gone) == ([], ["_posts/b"])


@pytest.mark.parametrize(
    ("changes", "read", "moved", "gone"),
    [
        ([Change("A", "_posts/n", A)], [("_posts/n", A)], [], []),
        ([Change("M", "_posts/x", D, old_blob=A)], [("_posts/x", D)], [], []),
        # a pure rename: the same blob, not read again
        ([Change("R", "old_post/x", A, old_path="_posts/x", old_blob=A)], [], [("_posts/x", "old_post/x")], []),
        # renamed and edited: read at the new path; the old one is let go
        ([Change("R", "old_post/x", D, old_path="_posts/x", old_blob=A)], [("old_post/x", D)], [], ["_posts/x"]),
        # a delete and an add of the same bytes elsewhere (no -M pairing) is a move too
        ([Change("D", "_posts/x", None, old_blob=A), Change("A", "z/x", A)], [], [("_posts/x", "z/x")], []),
        ([Change("D", "_posts/x", None, old_blob=A)], [], [], ["_posts/x"]),
        # a path that became a symlink holds no post any more
        ([Change("T", "_posts/x", None, old_blob=A)], [], [], ["_posts/x"]),
        # a file never read (dead-lettered, or outside what was read) that vanishes is nothing to report
        ([Change("D", "_posts/unknown", None)], [], [], []),
    ],
)
def test_plan_from_a_diff(
    changes: list[Change], read: list[tuple[str, str]], moved: list[tuple[str, str]], gone: list[str]
) -> None:
    plan = plan_diff(changes, posts(_posts__x=(A, "i1"), _posts__y=(B, "i2")))
    assert (plan.read, plan.moved, plan.gone) == (read, moved, gone)


def test_apply_moves_reads_and_reports_only_posts_no_path_holds_any_more() -> None:
    before = posts(_posts__x=(A, "i1"), _posts__dup=(B, "i2"), old_post__dup=(C, "i2"), _posts__bad=(D, None))
    plan = Plan(read=[("new", "e" * 40)], moved=[("_posts/x", "old_post/x")], gone=["_posts/dup", "_posts/bad"])
    after, deleted = apply(before, plan, {"new": GitPost(blob="e" * 40, item_id="i5")}, finished=True)
    assert after == {
        "old_post/x": GitPost(blob=A, item_id="i1"),
        "old_post/dup": GitPost(blob=C, item_id="i2"),
        "new": GitPost(blob="e" * 40, item_id="i5"),
    }
    assert deleted == []  # i2 is still at old_post/dup; _posts/bad never became an item

    plan = Plan(gone=["old_post/dup", "_posts/dup"])
    after, deleted = apply(before, plan, {}, finished=True)
    assert deleted == ["old_post/dup (item i2)", "_posts/dup (item i2)"]


def test_apply_keeps_vanished_paths_while_reads_are_deferred() -> None:
    """A post moved and edited may sit at a path not read yet: nothing is reported deleted before the end."""
    before = posts(_posts__x=(A, "i1"))
    after, deleted = apply(before, Plan(gone=["_posts/x"]), {}, finished=False)
    assert (after, deleted) == (before, [])
    after, deleted = apply(before, Plan(gone=["_posts/x"]), {}, finished=True)
    assert (after, deleted) == ({}, ["_posts/x (item i1)"])


def test_moved_and_edited_post_with_the_same_id_is_not_reported_deleted() -> None:
    before = posts(_posts__x=(A, "i1"))
    plan = plan_diff([Change("R", "old_post/x", D, old_path="_posts/x", old_blob=A)], before)
    after, deleted = apply(before, plan, {"old_post/x": GitPost(blob=D, item_id="i1")}, finished=True)
    assert (after, deleted) == ({"old_post/x": GitPost(blob=D, item_id="i1")}, [])


def test_raw_diff_output_is_parsed_with_odd_file_names() -> None:
    raw = (
        f":000000 100644 {'0' * 40} {A} A\0_posts/a b/x 📉.md\0"
        f":100644 100644 {B} {B} R100\0_posts/y.md\0old_post/y.md\0"
        f":100644 000000 {C} {'0' * 40} D\0_posts/z.md\0"
        f":100644 120000 {D} {A} T\0_posts/link.md\0"
        f":100644 160000 {D} {A} M\0_posts/sub\0"
    ).encode()
    assert parse_raw_diff(raw) == [
        Change("A", "_posts/a b/x 📉.md", A, old_blob=None),
        Change("R", "old_post/y.md", B, old_path="_posts/y.md", old_blob=B),
        Change("D", "_posts/z.md", None, old_blob=C),
        Change("T", "_posts/link.md", None, old_blob=D),
        Change("M", "_posts/sub", None, old_blob=D),
    ]
    assert parse_raw_diff(b"") == []
    latin1 = parse_raw_diff(f":000000 100644 {'0' * 40} {A} A\0".encode() + b"_posts/caf\xe9.md\0")
    assert latin1 == [Change("A", "_posts/caf\\xe9.md", A, old_blob=None)]
    latin1[0].path.encode("utf-8")  # stored in the state as JSON: must be valid text


@pytest.mark.parametrize(
    ("paths", "spec"), [(None, ["_posts"]), (["_posts", "old_post"], ["_posts", "old_post"]), (["."], [])]
)
def test_pathspec(paths: list[str] | None, spec: list[str]) -> None:
    assert pathspec(paths) == spec


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://github.com/zning1994/finews.git", "http"),
        ("http://user:pw@mirror.example/finews.git", "http"),
        ("ssh://git@github.com/zning1994/finews.git", "ssh"),
        ("git@github.com:zning1994/finews.git", "ssh"),
        ("git://example.org/finews.git", "git"),
        ("file:///srv/finews.git", "file"),
        ("/srv/finews.git", "file"),
        ("relative/finews", "file"),
    ],
)
def test_transport(url: str, kind: str) -> None:
    assert transport(url) == kind
