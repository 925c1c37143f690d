"""Where the running workers spend their CPU: py-spy samples of each worker process, summed up by frame.

`newsflow bench --profile-workers DIR` attaches `py-spy record` (from PyPI, in the bench extra) to each
worker of the one-worker drain once it has handled its first batch (so imports and model loading are
left out), with `--nonblocking` (the worker is never paused) and `--format raw` (one line per distinct
stack: frames from the thread's root to the running frame, then the number of samples). Threads that
wait (py-spy's idle detection) are not sampled. `summarize` turns such a file into the top frames by
self time (the running frame) and by inclusive time (anywhere on the stack).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

SAMPLE_RATE = 100  # samples per second
TOP = 15

_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")
_SHORTEN = re.compile(r".*/(?:site-packages|lib/python3\.\d+)/")


@dataclass(frozen=True)
class Frame:
    frame: str  # "function (file)", line numbers dropped
    self_pct: float
    inclusive_pct: float


@dataclass
class Summary:
    samples: int
    by_self: list[Frame] = field(default_factory=list)
    by_inclusive: list[Frame] = field(default_factory=list)


def frame_name(frame: str) -> str:
    """`function (path:line)` -> `function (short/path)`: library paths from their package, no line."""
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = _SHORTEN.sub("", match["file"])
    if "/pipeline/" in path:
        path = "pipeline/" + path.rsplit("/pipeline/", 1)[1]
    return f"{match['name']} ({path})"


def summarize(raw: str, top: int = TOP) -> Summary:
    """Top frames of py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        frames = [frame_name(f) for f in stack.split(";") if f]
        if not frames:
            continue
        total += samples
        own[frames[-1]] += samples
        for name in set(frames):
            anywhere[name] += samples
    if not total:
        return Summary(0)

    def pct(counter: Counter[str], name: str) -> float:
        return round(100 * counter[name] / total, 1)

    return Summary(
        total,
        [Frame(name, pct(own, name), pct(anywhere, name)) for name, _ in own.most_common(top)],
        [Frame(name, pct(own, name), pct(anywhere, name)) for name, _ in anywhere.most_common(top)],
    )


def py_spy() -> str | None:
    """The py-spy executable beside this interpreter, or on the PATH."""
    import sys

    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recorder:
    """py-spy attached to worker processes; each writes `<dir>/<kind>-<pid>.txt` and ends with its worker."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, list[Path]] = {}
        self._processes: list[subprocess.Popen[bytes]] = []
        self.problem: str | None = None

    def attach(self, kind: str, pid: int) -> None:
        executable = py_spy()
        if executable is None:
            self.problem = "py-spy is not installed (pip install -e '.[bench]')"
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        out = self.directory / f"{kind}-{pid}.txt"
        command = [executable, "record", "--pid", str(pid), "--rate", str(SAMPLE_RATE), "--nonblocking"]
        command += ["--format", "raw", "--output", str(out)]
        log = (self.directory / f"{kind}-{pid}.py-spy.log").open("wb")
        self._processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
        self.files.setdefault(kind, []).append(out)

    def wait(self, timeout_s: float = 30.0) -> None:
        """Wait for the recorders to write their files (they stop when their worker exits)."""
        for process in self._processes:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=timeout_s)

    def summaries(self, top: int = TOP) -> dict[str, Summary]:
        found: dict[str, Summary] = {}
        for kind, paths in self.files.items():
            raw = "\n".join(path.read_text(errors="replace") for path in paths if path.exists())
            found[kind] = summarize(raw, top)
        return found
