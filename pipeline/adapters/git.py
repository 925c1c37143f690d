"""The git command line, for sources that are git repositories of posts.

A `Mirror` is a bare repository under the state dir that follows one branch of a remote: `fetch`
brings the branch's head into `refs/newsflow/head`; `tree`, `diff` and `BlobReader` read what the
source type needs from it. Every command runs with an argument list (no shell), its own process
group and a timeout (the whole group is killed when it passes), and an environment built from
scratch: no system or user git config (no credential helpers, no `insteadOf` rewrites), no prompts,
no inherited `GIT_DIR`, no proxies.

The remote URL reaches git through `GIT_CONFIG_*` variables, never the command line (where `ps` would
show a password) and never a config file on disk. Every message masks the user info of URLs.

What a remote may do depends on the source being `trusted`:
- untrusted: only http and https. The host is resolved and checked like a feed's (no loopback,
  private, link-local or metadata address), then *pinned* for git's HTTP client
  (`http.curloptResolve`, git 2.37+), so git connects to the addresses we checked and nothing else;
  redirects are not followed; fetched objects are checked (`fetch.fsckObjects`).
- trusted: also local paths, `file://`, ssh (batch mode: no password prompt) and git://.
The `ext::` transport (which runs commands) is never allowed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal
from urllib.parse import urlsplit

from pipeline.errors import ConfigError, PermanentError, RetryableError
from pipeline.logs import mask
from pipeline.sources.fetch import PUBLIC_ONLY, AddressPolicy, check_address

HEAD_REF = "refs/newsflow/head"
REMOTE = "newsflow"
PINNING_VERSION = (2, 37)  # http.curloptResolve
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_REGULAR_FILE_MODES = frozenset({"100644", "100755"})
_MAX_MESSAGE_CHARS = 500
_CHUNK = 1 << 16

Transport = Literal["http", "ssh", "git", "file"]


class GitError(PermanentError):
    """git refused: no such repository or branch, a corrupt object, a remote we may not reach."""


class GitRetryable(RetryableError):
    """git failed in a way that may pass: the network, a timeout, a busy server."""


# --- remotes ----------------------------------------------------------------------------------------

_SCP_LIKE = re.compile(r"^(?:[^@/:]+@)?[^/:]+:(?!//)")


def transport(url: str) -> Transport:
    """How git would reach `url`: http(s), ssh (also `user@host:path`), git://, or the local disk."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return "http"
    if scheme in ("ssh", "git+ssh", "ssh+git"):
        return "ssh"
    if scheme == "git":
        return "git"
    if scheme == "file" or url.startswith(("/", "./", "../")) or not _SCP_LIKE.match(url):
        return "file"
    return "ssh"


def shown(url: str) -> str:
    """`url` as messages show it: without user info (it may hold a password)."""
    return mask(url)


@dataclass(frozen=True)
class Remote:
    url: str
    trusted: bool = False
    policy: AddressPolicy = PUBLIC_ONLY

    def config(self, *, timeout_s: float, git_version: tuple[int, ...]) -> list[tuple[str, str]]:
        """git settings that define this remote and what it may do; checks an untrusted host first."""
        kind = transport(self.url)
        settings = [
            (f"remote.{REMOTE}.url", self.url),
            ("protocol.allow", "never"),
            ("protocol.https.allow", "always"),
            ("protocol.http.allow", "always"),
            ("http.lowSpeedLimit", "1000"),
            ("http.lowSpeedTime", str(max(1, int(timeout_s)))),
        ]
        if self.trusted:
            settings += [("protocol.file.allow", "always"), ("protocol.ssh.allow", "always")]
            settings += [("protocol.git.allow", "always")]
            return settings
        if kind != "http":
            raise ConfigError(
                f"{shown(self.url)}: only http(s) git remotes may be read by untrusted sources "
                "(mark the source `trusted: true` for ssh, git:// and local repositories)"
            )
        if git_version < PINNING_VERSION:
            raise ConfigError(
                "git {} cannot pin the addresses it connects to (2.37 or newer can); "
                "upgrade git or mark the source `trusted: true`".format(".".join(map(str, git_version)))
            )
        parts = urlsplit(self.url)
        if not parts.hostname:
            raise ConfigError(f"{shown(self.url)}: no host name in the URL")
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        addresses = check_address(parts.hostname, port, trusted=False, policy=self.policy, timeout_s=timeout_s)
        pinned = ",".join(f"[{a}]" if isinstance(a, ipaddress.IPv6Address) else str(a) for a in addresses)
        return [
            *settings,
            ("http.curloptResolve", f"{parts.hostname}:{port}:{pinned}"),
            ("http.followRedirects", "false"),
            ("fetch.fsckObjects", "true"),
        ]


# --- running git -----------------------------------------------------------------------------------


def _environment(config: Sequence[tuple[str, str]], timeout_s: float) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/"),
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_LITERAL_PATHSPECS": "1",
        "GIT_SSH_COMMAND": f"ssh -o BatchMode=yes -o ConnectTimeout={max(1, int(timeout_s))}",
    }
    if "SSH_AUTH_SOCK" in os.environ:
        env["SSH_AUTH_SOCK"] = os.environ["SSH_AUTH_SOCK"]
    settings = [("core.hooksPath", os.devnull), ("gc.autoDetach", "false"), *config]
    env["GIT_CONFIG_COUNT"] = str(len(settings))
    for index, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _message(stderr: bytes, secrets: Sequence[str]) -> str:
    text = stderr.decode("utf-8", "replace")
    for secret in secrets:
        if secret:
            text = text.replace(secret, shown(secret))
    lines = [line.strip() for line in mask(text).splitlines() if line.strip()]
    message = " / ".join(lines) or "no message"
    return message if len(message) <= _MAX_MESSAGE_CHARS else message[: _MAX_MESSAGE_CHARS - 1] + "…"


def version() -> tuple[int, ...]:
    """The installed git's version, e.g. (2, 39, 5)."""
    try:
        out = subprocess.run(
            ["git", "--version"], capture_output=True, timeout=30, check=True, env=_environment([], 30)
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(f"git is needed for `type: git` sources and could not be run: {exc}") from None
    found = re.search(rb"(\d+)\.(\d+)(?:\.(\d+))?", out.stdout)
    if not found:
        raise ConfigError(f"cannot tell the version of git from {out.stdout[:80]!r}")
    return tuple(int(part) for part in found.groups() if part is not None)


@dataclass(frozen=True)
class Change:
    """One line of `git diff-tree --raw`: A, M, T, D, or R (renamed: `old_path` set)."""

    status: str
    path: str
    blob: str | None  # None when the path no longer holds a regular file
    old_path: str | None = None
    old_blob: str | None = None


class Mirror:
    """A bare repository at `git_dir` mirroring one branch of a remote."""

    def __init__(self, git_dir: Path, *, timeout_s: float) -> None:
        self.git_dir = git_dir
        self.timeout_s = timeout_s

    def _exec(self, args: Sequence[str], config: Sequence[tuple[str, str]] = ()) -> tuple[int, bytes, bytes]:
        """(exit code, stdout, stderr) of `git <args>` on this repository, in its own process group."""
        command = ["git", f"--git-dir={self.git_dir}", *args]
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_environment(config, self.timeout_s),
                start_new_session=True,
            )
        except OSError as exc:
            raise ConfigError(f"git is needed for `type: git` sources and could not be run: {exc.strerror}") from None
        try:
            out, err = process.communicate(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.communicate()
            raise GitRetryable(f"git {args[0]} took longer than {self.timeout_s:g}s and was stopped") from None
        except BaseException:
            _kill(process)
            process.wait()
            raise
        return process.returncode, out, err

    def _run(
        self, args: Sequence[str], *, config: Sequence[tuple[str, str]] = (), secrets: Sequence[str] = ()
    ) -> bytes:
        code, out, err = self._exec(args, config)
        if code != 0:
            raise GitError(f"git {args[0]} failed: {_message(err, secrets)}")
        return out

    def ensure(self) -> None:
        if (self.git_dir / "HEAD").is_file():
            return
        self.git_dir.parent.mkdir(parents=True, exist_ok=True)
        self._run(["init", "--quiet", "--bare", "--template=", str(self.git_dir)])

    def fetch(self, remote: Remote, branch: str | None) -> str:
        """Bring the remote's `branch` (its default branch when None) here; the commit it points to."""
        self.ensure()
        config = remote.config(timeout_s=self.timeout_s, git_version=version())
        source = f"refs/heads/{branch}" if branch else "HEAD"
        args = ["fetch", "--no-tags", "--no-recurse-submodules", "--no-write-fetch-head", "--quiet", REMOTE]
        try:
            self._run([*args, f"+{source}:{HEAD_REF}"], config=config, secrets=[remote.url])
        except GitError as exc:
            raise _fetch_failure(str(exc), remote, branch) from None
        return self.resolve(HEAD_REF)

    def resolve(self, ref: str) -> str:
        out = self._run(["rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"]).decode().strip()
        if not _SHA.match(out):
            raise GitError(f"git rev-parse gave {out[:80]!r} for {ref}")
        return out

    def has_commit(self, commit: str) -> bool:
        try:
            self._run(["cat-file", "-e", "--end-of-options", f"{commit}^{{commit}}"])
        except GitError:
            return False
        return True

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when `older` is in the history of `newer` (False after a force push that dropped it)."""
        code, _, err = self._exec(["merge-base", "--is-ancestor", older, newer])
        if code in (0, 1):
            return code == 0
        raise GitError(f"git merge-base failed: {_message(err, ())}")

    def tree(self, commit: str, paths: Sequence[str]) -> dict[str, str]:
        """Every regular file of `commit` under `paths` (all of it when empty): path -> blob id."""
        out = self._run(["ls-tree", "-r", "-z", "--full-tree", commit, "--", *paths])
        files: dict[str, str] = {}
        for record in out.split(b"\0"):
            if not record:
                continue
            head, _, path = record.partition(b"\t")
            mode, kind, blob = head.decode().split(" ")
            if kind == "blob" and mode in _REGULAR_FILE_MODES:
                files[path.decode("utf-8", "backslashreplace")] = blob
        return files

    def diff(self, old: str, new: str, paths: Sequence[str]) -> list[Change]:
        """What changed from `old` to `new` under `paths`, renames detected (`-M`)."""
        out = self._run(["diff-tree", "-r", "-z", "-M", "--no-abbrev", "--raw", old, new, "--", *paths])
        return parse_raw_diff(out)


def parse_raw_diff(out: bytes) -> list[Change]:
    """`git diff-tree -r -z --raw` output as changes; symlinks and submodules count as no file.

    Paths that are not UTF-8 keep their odd bytes as `\\xNN` (blobs are read by id, never by path).
    """
    fields = out.split(b"\0")
    changes: list[Change] = []
    position = 0
    while position < len(fields) and fields[position].startswith(b":"):
        old_mode, new_mode, old_blob, new_blob, status = fields[position][1:].decode().split(" ")
        letter = status[0]
        if letter in "RC":
            source, target = fields[position + 1], fields[position + 2]
            position += 3
        else:
            source = target = fields[position + 1]
            position += 2
        path = target.decode("utf-8", "backslashreplace")
        blob = new_blob if new_mode in _REGULAR_FILE_MODES and letter != "D" else None
        before = old_blob if old_mode in _REGULAR_FILE_MODES else None
        if letter in "RC":
            old_path = source.decode("utf-8", "backslashreplace")
            changes.append(Change(letter, path, blob, old_path=old_path if letter == "R" else None, old_blob=before))
        else:
            changes.append(Change(letter, path, blob, old_blob=before))
    return changes


def _fetch_failure(message: str, remote: Remote, branch: str | None) -> GitError | GitRetryable:
    """A failed fetch as permanent (fix the source) or retryable (the network, the server's load)."""
    where = shown(remote.url)
    lowered = message.lower()
    if "couldn't find remote ref" in lowered:
        return GitError(f"{where} has no branch {branch!r}" if branch else f"{where} has no default branch")
    status = _HTTP_STATUS.search(message)
    if status:
        code = int(status.group(1))
        retry = code >= 500 or code in (408, 429)
        hint = " (redirects are not followed for untrusted sources)" if 300 <= code < 400 else ""
        return (GitRetryable if retry else GitError)(f"{where}: {message}{hint}")
    if any(words in lowered for words in _PERMANENT):
        return GitError(f"{where}: {message}")
    return GitRetryable(f"{where}: {message}")


_HTTP_STATUS = re.compile(r"returned error: (\d{3})")
_PERMANENT = (
    "does not appear to be a git repository",
    "repository not found",
    "not found",
    "authentication failed",
    "could not read username",
    "permission denied",
    "not allowed",  # transport 'x' not allowed
    "fsck",
    "not a git repository",
)


# --- reading blobs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blob:
    sha: str
    size: int
    data: bytes  # the whole blob, or its first `max_bytes` when `size` is over the cap

    @property
    def complete(self) -> bool:
        return len(self.data) == self.size


class BlobReader:
    """The blobs `shas`, in order, from one `git cat-file --batch` process; at most `max_bytes` of each kept.

    The ids are written by a thread while the blobs are read here, so git never waits for a round
    trip per blob. Stopping early (leaving the loop, or `close`) kills the process. So does the
    mirror's timeout, and reading then fails with GitRetryable.
    """

    def __init__(self, mirror: Mirror, shas: Sequence[str], *, max_bytes: int) -> None:
        for sha in shas:
            if not _SHA.match(sha):
                raise GitError(f"not an object id: {sha[:80]!r}")
        self.shas = list(shas)
        self.max_bytes = max_bytes
        self._timeout_s = mirror.timeout_s
        self._process = subprocess.Popen(
            ["git", f"--git-dir={mirror.git_dir}", "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_environment([], mirror.timeout_s),
            start_new_session=True,
        )
        self._timer = threading.Timer(mirror.timeout_s, _kill, args=(self._process,))
        self._timer.daemon = True
        self._timer.start()
        self._writer = threading.Thread(target=self._ask, name="newsflow-git-cat-file", daemon=True)
        self._writer.start()

    def _ask(self) -> None:
        stdin = self._process.stdin
        assert stdin is not None
        with contextlib.suppress(OSError):  # the process was stopped: the reader says why
            for sha in self.shas:
                stdin.write(sha.encode() + b"\n")
            stdin.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Blob]:
        for sha in self.shas:
            yield self._next(sha)

    def close(self) -> None:
        self._timer.cancel()
        if self._process.poll() is None:
            _kill(self._process)  # done or not, nothing more is wanted from it
        self._writer.join(5)
        self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()

    def _next(self, sha: str) -> Blob:
        stdout = self._process.stdout
        assert stdout is not None
        header = stdout.readline(256)
        if not header.endswith(b"\n"):
            raise self._stopped()
        parts = header.split()
        if len(parts) != 3 or parts[1] != b"blob" or parts[0].decode() != sha:
            raise GitError(f"object {sha} is not a readable blob ({header.decode(errors='replace').strip()})")
        size = int(parts[2])
        data = _read_exactly(stdout, min(size, self.max_bytes))
        _discard(stdout, size - len(data))
        if len(data) < min(size, self.max_bytes) or stdout.read(1) != b"\n":
            raise self._stopped()
        return Blob(sha=sha, size=size, data=data)

    def _stopped(self) -> GitRetryable:
        if not self._timer.is_alive() and self._process.poll() is not None:
            return GitRetryable(f"reading posts from git took longer than {self._timeout_s:g}s and was stopped")
        return GitRetryable("git cat-file stopped answering")


def _read_exactly(stream: IO[bytes], count: int) -> bytes:
    chunks: list[bytes] = []
    left = count
    while left > 0:
        chunk = stream.read(min(left, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _discard(stream: IO[bytes], count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, _CHUNK))
        if not chunk:
            return
        count -= len(chunk)
