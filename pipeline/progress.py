"""Progress of long CLI work: a bar on a terminal (rich), plain `label: done/total` lines otherwise.

Lines printed while a bar is shown appear above it; the plain form writes to `stream` (stderr)
at most once every `every_s` seconds and once at the end, so logs and CI output stay short.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress as RichBar
    from rich.progress import TaskID

T = TypeVar("T")


class Progress(Protocol):
    def advance(self, note: str = "") -> None: ...


class PlainProgress:
    """`label: done/total note` lines, throttled."""

    def __init__(self, label: str, total: int | None, stream: TextIO, every_s: float = 5.0) -> None:
        self.label, self.total, self.stream, self.every_s = label, total, stream, every_s
        self.done = 0
        self._said_at = time.monotonic()
        self._said_done = 0

    def advance(self, note: str = "") -> None:
        self.done += 1
        if time.monotonic() - self._said_at >= self.every_s or self.done == self.total:
            self._say(note)

    def finish(self) -> None:
        if self.done != self._said_done:
            self._say("")

    def _say(self, note: str) -> None:
        of = f"/{self.total}" if self.total is not None else ""
        print(f"{self.label}: {self.done}{of}{' ' + note if note else ''}", file=self.stream, flush=True)
        self._said_at, self._said_done = time.monotonic(), self.done


class _RichProgress:
    def __init__(self, bar: RichBar, task: TaskID) -> None:
        self._bar, self._task = bar, task

    def advance(self, note: str = "") -> None:
        self._bar.update(self._task, advance=1, note=note)


@contextmanager
def progress(label: str, total: int | None = None, *, stream: TextIO | None = None) -> Iterator[Progress]:
    """Report `advance()` calls as a bar when `stream` is a terminal and rich is installed, else as lines."""
    stream = stream or sys.stderr
    if _is_terminal(stream) and importlib.util.find_spec("rich") is not None:
        with _rich_bar(label, total, stream) as bar:
            yield bar
        return
    plain = PlainProgress(label, total, stream)
    yield plain
    plain.finish()


@contextmanager
def _rich_bar(label: str, total: int | None, stream: TextIO) -> Iterator[Progress]:
    from rich import progress as rich
    from rich.console import Console

    count = rich.MofNCompleteColumn() if total is not None else rich.TextColumn("{task.completed}")
    columns = [rich.TextColumn("{task.description}"), rich.BarColumn(), count, rich.TimeElapsedColumn()]
    with rich.Progress(*columns, rich.TextColumn("{task.fields[note]}"), console=Console(file=stream)) as bar:
        yield _RichProgress(bar, bar.add_task(label, total=total, note=""))


def track(items: Iterable[T], label: str, total: int | None = None, *, stream: TextIO | None = None) -> Iterator[T]:
    """Yield `items`, advancing a progress report after each one."""
    with progress(label, total, stream=stream) as report:
        for item in items:
            yield item
            report.advance()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
