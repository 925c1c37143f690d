"""The git adapter against real git and real HTTP servers on loopback: an untrusted http(s) remote is
checked and pinned like a feed, redirects are not followed, stalls are cut off, and no message ever
shows a password written into the URL."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.adapters.git import BlobReader, GitError, GitRetryable, Mirror, Remote
from pipeline.config import Settings
from pipeline.emit import DryRunEmitter
from pipeline.errors import NewsflowError
from pipeline.poll import poll_source
from pipeline.sources.catalog import parse_sources
from pipeline.sources.fetch import AddressPolicy, AddressRefused, IPAddress
from pipeline.state import StateStore
from tests.support.git_repos import WorkRepo, finews
from tests.support.http_servers import LoopbackServer, RawServer, redirect

SECRET = "s3cret-Pa55"
LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


def resolver(answers: dict[str, str]) -> AddressPolicy:
    """127.0.0.1 allowed (the test servers), names answered from `answers` only: nothing leaves loopback."""

    def resolve(host: str, port: int) -> list[IPAddress]:
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(answers[host])]

    return AddressPolicy(allow=LOOPBACK_ONLY, resolve=resolve)


def _file_route(path: Path) -> object:
    return lambda exchange: exchange.reply(200, path.read_bytes(), [("Content-Type", "application/octet-stream")])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LoopbackServer, str]]:
    """A bare repository of three real posts, served by git's "dumb" HTTP protocol (static files)."""
    work = WorkRepo(tmp_path / "work")
    for name in ["2021-12-08-202112082206885586.md", "2021-12-08-202112082206890958.md", "2021-12-01-init.md"]:
        work.write(f"_posts/{name}", finews(name))
    head = work.commit("three posts")
    bare = tmp_path / "finews.git"
    work.git("clone", "--quiet", "--bare", str(work.path), str(bare))
    work.git("--git-dir", str(bare), "update-server-info")
    routes = {
        f"/finews.git/{file.relative_to(bare).as_posix()}": _file_route(file)
        for file in bare.rglob("*")
        if file.is_file()
    }
    with LoopbackServer(routes) as server:  # type: ignore[arg-type]
        yield server, head


def test_untrusted_http_remote_is_fetched_from_the_address_that_was_checked(
    served: tuple[LoopbackServer, str], tmp_path: Path
) -> None:
    server, head = served
    # mirror.test exists only in this policy's resolver: git can reach it only through the pinned address
    remote = Remote(
        f"http://reader:{SECRET}@mirror.test:{server.port}/finews.git", policy=resolver({"mirror.test": "127.0.0.1"})
    )
    mirror = Mirror(tmp_path / "state" / "git" / "m.git", timeout_s=30)
    assert mirror.fetch(remote, "main") == head
    assert mirror.fetch(remote, None) == head  # the remote's default branch
    assert any(seen.headers.get("host") == f"mirror.test:{server.port}" for seen in server.seen)
    assert sorted(mirror.tree(head, ["_posts"])) == [
        "_posts/2021-12-01-init.md",
        "_posts/2021-12-08-202112082206885586.md",
        "_posts/2021-12-08-202112082206890958.md",
    ]
    assert SECRET not in (mirror.git_dir / "config").read_text()  # the URL never reaches the disk


@pytest.mark.parametrize(
    ("host", "answers", "words"),
    [
        ("127.0.0.2", {}, "127.0.0.2 is a loopback address"),
        ("mirror.test", {"mirror.test": "10.1.2.3"}, "resolves to 10.1.2.3, a private address"),
        ("mirror.test", {"mirror.test": "169.254.169.254"}, "link-local"),
    ],
)
def test_untrusted_remote_on_a_private_address_is_refused_before_git_runs(
    host: str, answers: dict[str, str], words: str, tmp_path: Path
) -> None:
    remote = Remote(f"https://u:{SECRET}@{host}/finews.git", policy=resolver(answers))
    with pytest.raises(AddressRefused) as refused:
        Mirror(tmp_path / "m.git", timeout_s=30).fetch(remote, None)
    assert words in str(refused.value) and SECRET not in str(refused.value)


def test_untrusted_remote_is_not_followed_through_a_redirect(tmp_path: Path) -> None:
    with LoopbackServer({"/finews.git/info/refs": redirect("http://127.0.0.1:1/elsewhere.git/info/refs")}) as server:
        remote = Remote(f"http://u:{SECRET}@127.0.0.1:{server.port}/finews.git", policy=resolver({}))
        with pytest.raises(GitError) as failed:
            Mirror(tmp_path / "m.git", timeout_s=30).fetch(remote, None)
    assert SECRET not in str(failed.value) and "***@" in str(failed.value)


def test_stalled_remote_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    def stall(client: socket.socket, stopping: threading.Event) -> None:
        stopping.wait(30)

    with RawServer(stall) as server:
        remote = Remote(f"http://127.0.0.1:{server.port}/finews.git", policy=resolver({}))
        with pytest.raises(GitRetryable) as stopped:
            Mirror(tmp_path / "m.git", timeout_s=2).fetch(remote, None)
    print(f"\n[stalled remote] {stopped.value}")


def test_missing_repository_and_branch_say_so(tmp_path: Path) -> None:
    work = WorkRepo(tmp_path / "work")
    work.write("_posts/a.md", finews("2021-12-01-init.md"))
    work.commit("one")
    mirror = Mirror(tmp_path / "m.git", timeout_s=30)
    with pytest.raises(GitError, match="has no branch 'gh-pages'"):
        mirror.fetch(Remote(str(work.path), trusted=True), "gh-pages")
    with pytest.raises(GitError, match=r"does not appear to be a git repository|not found"):
        mirror.fetch(Remote(str(tmp_path / "nowhere"), trusted=True), None)


def test_ext_transport_never_runs_a_command_even_for_trusted_sources(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(GitError, match="not allowed"):
        Mirror(tmp_path / "m.git", timeout_s=30).fetch(Remote(f"ext::sh -c touch% {marker}", trusted=True), None)
    assert not marker.exists()


def test_blob_reader_caps_what_it_keeps_and_stays_in_step(tmp_path: Path) -> None:
    """A blob over the cap is read through (only its head kept), and the next one still comes out whole."""
    work = WorkRepo(tmp_path / "work")
    big, small = b"x" * 100_000, finews("2021-12-01-init.md")
    work.write("_posts/big.md", big)
    work.write("_posts/small.md", small)
    head = work.commit("two")
    mirror = Mirror(tmp_path / "m.git", timeout_s=30)
    mirror.fetch(Remote(str(work.path), trusted=True), None)
    tree = mirror.tree(head, ["_posts"])
    with BlobReader(mirror, [tree["_posts/big.md"], tree["_posts/small.md"]], max_bytes=1_000) as reader:
        first, second = list(reader)
    assert (first.size, len(first.data), first.complete) == (100_000, 1_000, False)
    assert (second.data, second.complete) == (small, True)


def test_a_failed_poll_records_the_reason_without_the_password(tmp_path: Path) -> None:
    with LoopbackServer({}) as server:  # every path answers 404
        url = f"http://reader:{SECRET}@127.0.0.1:{server.port}/missing.git"
        (source,) = parse_sources(
            {"sources": [{"id": "gone", "type": "git", "url": url, "outlet": "O", "category": "c"}]}, tmp_path
        )
        settings = Settings(state_dir=tmp_path / "state")
        store = StateStore(settings.state_dir)
        with pytest.raises(NewsflowError) as failed:
            poll_source(
                source,
                settings,
                DryRunEmitter(),
                store,
                now=datetime.now(UTC),
                policy=resolver({}),
            )
    state = store.load("gone")
    assert state.consecutive_failures == 1 and state.last_error
    for text in (str(failed.value), state.last_error, source.location):
        assert SECRET not in text, text
    print(f"\n[git 404] {state.last_error}")


def test_blob_reader_stopped_early_leaves_no_process_behind(tmp_path: Path) -> None:
    work = WorkRepo(tmp_path / "work")
    for n in range(50):
        work.write(f"_posts/{n:02d}.md", b"x" * 200_000 + str(n).encode())
    head = work.commit("fifty big files")
    mirror = Mirror(tmp_path / "m.git", timeout_s=30)
    mirror.fetch(Remote(str(work.path), trusted=True), None)
    shas = list(mirror.tree(head, ["_posts"]).values())
    with BlobReader(mirror, shas, max_bytes=10) as reader:
        for blob in reader:
            assert blob.size > 200_000
            break  # the poll ran out of time: leave git with its pipes full
    assert reader._process.poll() is not None and not reader._writer.is_alive()
