"""Progress: plain lines when not at a terminal (throttled, always the last), a bar at one."""

from __future__ import annotations

import io

from pipeline.progress import PlainProgress, progress, track


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_lines_say_the_count_and_always_the_end() -> None:
    out = io.StringIO()
    bar = PlainProgress("poll", 3, out, every_s=0)
    bar.advance("a")
    bar.advance()
    bar.advance("c")
    bar.finish()  # nothing new since the last line: no repeat
    assert out.getvalue().splitlines() == ["poll: 1/3 a", "poll: 2/3", "poll: 3/3 c"]


def test_plain_lines_are_throttled_but_the_total_is_told() -> None:
    out = io.StringIO()
    assert list(track(range(1000), "replay", stream=out)) == list(range(1000))
    assert out.getvalue().splitlines() == ["replay: 1000"]  # unknown total: one line at the end


def test_a_terminal_gets_a_bar_not_lines() -> None:
    out = _Tty()
    with progress("poll", 2, stream=out) as bar:
        bar.advance("first")
        bar.advance("second")
    text = out.getvalue()
    assert "poll" in text and "2/2" in text
    assert "poll: 1/2" not in text


def test_track_stops_early_without_a_false_total() -> None:
    out = io.StringIO()
    for n in track([1, 2, 3], "poll", 3, stream=out):
        if n == 2:
            break
    assert "poll: 3/3" not in out.getvalue()
