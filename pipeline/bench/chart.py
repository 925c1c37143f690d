"""The bench's picture: one SVG with throughput over time of each end-to-end run, and the freshness distribution.

Drawn from the bench's JSON alone (`svg(data)`), so a picture can be made again from a saved run. Plain
SVG 1.1 with its own small axes code: no plotting package, no fonts to install, readable in any browser.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 980, 400
PANEL_W, PANEL_H = 400, 270
LEFT_X, RIGHT_X, TOP_Y = 70, 560, 60
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
TARGET_COLOUR = "#d62728"


def nice_ticks(high: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least `high` (1, 2 or 5 times a power of ten apart)."""
    if not math.isfinite(high) or high <= 0:
        return [0.0, 1.0]
    raw = high / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    ticks = [0.0]
    while ticks[-1] < high - 1e-9:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _label(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:g}"


class _Panel:
    """A plotting area at (x, y) of PANEL_W x PANEL_H with linear axes from 0 to the top ticks."""

    def __init__(self, x: float, y: float, x_ticks: list[float], y_ticks: list[float]) -> None:
        self.x, self.y = x, y
        self.x_ticks, self.y_ticks = x_ticks, y_ticks
        self.x_max, self.y_max = x_ticks[-1] or 1.0, y_ticks[-1] or 1.0

    def px(self, value: float) -> float:
        return round(self.x + PANEL_W * value / self.x_max, 1)

    def py(self, value: float) -> float:
        return round(self.y + PANEL_H - PANEL_H * value / self.y_max, 1)

    def axes(self, title: str, x_label: str, y_label: str) -> list[str]:
        out = [
            f'<text x="{self.x}" y="{self.y - 14}" class="title">{escape(title)}</text>',
            f'<rect x="{self.x}" y="{self.y}" width="{PANEL_W}" height="{PANEL_H}" class="frame"/>',
        ]
        for tick in self.y_ticks:
            y = self.py(tick)
            out.append(f'<line x1="{self.x}" y1="{y}" x2="{self.x + PANEL_W}" y2="{y}" class="grid"/>')
            out.append(f'<text x="{self.x - 6}" y="{y + 4}" class="tick" text-anchor="end">{_label(tick)}</text>')
        for tick in self.x_ticks:
            x = self.px(tick)
            out.append(
                f'<text x="{x}" y="{self.y + PANEL_H + 16}" class="tick" text-anchor="middle">{_label(tick)}</text>'
            )
        out.append(
            f'<text x="{self.x + PANEL_W / 2}" y="{self.y + PANEL_H + 36}" class="axis" '
            f'text-anchor="middle">{escape(x_label)}</text>'
        )
        cx, cy = self.x - 48, self.y + PANEL_H / 2
        out.append(
            f'<text x="{cx}" y="{cy}" class="axis" text-anchor="middle" '
            f'transform="rotate(-90 {cx} {cy})">{escape(y_label)}</text>'
        )
        return out


def _runs(data: dict[str, Any]) -> list[tuple[str, list[tuple[float, float]], float | None]]:
    runs = [
        (f"{run['workers']} worker(s) per stage", run.get("throughput") or [], run.get("steady_docs_per_s"))
        for run in data.get("e2e_runs", [])
    ]
    pinned = (data.get("pinned") or {}).get("e2e")
    if pinned:
        runs.append(("pinned, 1 worker per stage", pinned.get("throughput") or [], pinned.get("steady_docs_per_s")))
    return [(name, [(float(t), float(r)) for t, r in points], steady) for name, points, steady in runs]


def _throughput_panel(data: dict[str, Any]) -> list[str]:
    runs = _runs(data)
    longest = max((t for _, points, _ in runs for t, _ in points), default=1.0)
    highest = max((r for _, points, _ in runs for _, r in points), default=1.0)
    panel = _Panel(LEFT_X, TOP_Y, nice_ticks(longest), nice_ticks(highest))
    out = panel.axes("End to end: articles searchable per second", "seconds since the workers started", "docs/s")
    lines: list[str] = []
    for n, (name, points, steady) in enumerate(runs):
        colour = COLOURS[n % len(COLOURS)]
        if points:
            path = " ".join(f"{panel.px(t)},{panel.py(r)}" for t, r in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
        label = name + (f": steady {steady:,.0f} docs/s" if steady else "")
        y = TOP_Y + 14 + 16 * n
        lines.append(
            f'<line x1="{LEFT_X + 10}" y1="{y - 4}" x2="{LEFT_X + 30}" y2="{y - 4}" stroke="{colour}" '
            f'stroke-width="3"/>'
        )
        lines.append(f'<text x="{LEFT_X + 36}" y="{y}" class="legend">{escape(label)}</text>')
    if lines:  # the legend over the lines, on a pale ground so that both stay readable
        height = 16 * len(runs) + 6
        out.append(f'<rect x="{LEFT_X + 4}" y="{TOP_Y + 2}" width="260" height="{height}" class="legend-ground"/>')
    return out + lines


def _freshness_panel(data: dict[str, Any], target_s: float) -> list[str]:
    fresh = data.get("freshness") or {}
    histogram = fresh.get("histogram") or {}
    bin_s = float(histogram.get("bin_s") or 0.1)
    counts: Sequence[int] = histogram.get("counts") or []
    total = sum(counts) or 1
    shares = [100 * c / total for c in counts]
    high_s = max(len(counts) * bin_s, target_s * 1.2)
    panel = _Panel(RIGHT_X, TOP_Y, nice_ticks(high_s), nice_ticks(max(shares, default=1.0)))
    rate = fresh.get("rate_per_s")
    title = "Freshness: append to searchable" + (f" at {rate:,.0f} items/s" if rate else "")
    out = panel.axes(title, "seconds", "% of items")
    for n, share in enumerate(shares):
        if share <= 0:
            continue
        x0, x1 = panel.px(n * bin_s), panel.px((n + 1) * bin_s)
        y = panel.py(share)
        out.append(
            f'<rect x="{x0}" y="{y}" width="{max(x1 - x0 - 0.5, 0.5)}" height="{round(TOP_Y + PANEL_H - y, 1)}" '
            f'fill="{COLOURS[0]}"/>'
        )
    marks = [(f"p{p}", data.get(f"freshness_p{p}_s")) for p in (50, 95, 99)]
    for n, (name, value) in enumerate(marks):
        if value is None:
            continue
        x = panel.px(min(float(value), panel.x_max))
        out.append(f'<line x1="{x}" y1="{TOP_Y}" x2="{x}" y2="{TOP_Y + PANEL_H}" class="mark"/>')
        out.append(_marker_label(panel, x, TOP_Y + 14 + 14 * n, f"{name} {float(value):.2f} s"))
    x = panel.px(target_s)
    out.append(f'<line x1="{x}" y1="{TOP_Y}" x2="{x}" y2="{TOP_Y + PANEL_H}" class="target"/>')
    out.append(_marker_label(panel, x, TOP_Y + 14 + 14 * len(marks), f"target p95 {target_s:g} s", TARGET_COLOUR))
    return out


def _marker_label(panel: _Panel, x: float, y: float, text: str, colour: str | None = None) -> str:
    """A label beside a vertical marker: on its right, or on its left near the panel's right edge."""
    fill = f' fill="{colour}"' if colour else ""
    if x > panel.x + PANEL_W - 90:
        return f'<text x="{x - 3}" y="{y}" class="legend" text-anchor="end"{fill}>{escape(text)}</text>'
    return f'<text x="{x + 3}" y="{y}" class="legend"{fill}>{escape(text)}</text>'


STYLE = """
text { font-family: sans-serif; fill: #222; }
.title { font-size: 14px; font-weight: bold; }
.tick { font-size: 11px; fill: #555; }
.axis { font-size: 12px; }
.legend { font-size: 11px; }
.frame { fill: none; stroke: #888; }
.legend-ground { fill: #fff; fill-opacity: 0.85; stroke: #ddd; }
.grid { stroke: #e4e4e4; }
.mark { stroke: #444; stroke-dasharray: 3 3; }
.target { stroke: #d62728; stroke-width: 1.5; stroke-dasharray: 6 3; }
"""


def svg(data: dict[str, Any], *, freshness_target_s: float = 1.0) -> str:
    """The picture of one bench run's JSON."""
    head = (
        f"newsflow bench {data.get('run', '')}: {data.get('corpus', {}).get('items', '?')} articles, "
        f"{data.get('cores', '?')} cores, started {str(data.get('started_at', ''))[:19]}"
    )
    body = [
        f'<text x="{LEFT_X}" y="22" class="title">{escape(head)}</text>',
        *_throughput_panel(data),
        *_freshness_panel(data, freshness_target_s),
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(head)}">\n'
        f'<style>{STYLE}</style>\n<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>\n'
        + "\n".join(body)
        + "\n</svg>\n"
    )


def histogram(values: Sequence[float], bin_s: float, *, limit_s: float) -> list[int]:
    """Counts of `values` per bin of `bin_s` from 0; values at or past `limit_s` fall in the last bin."""
    bins = max(1, math.ceil(limit_s / bin_s))
    counts = [0] * bins
    for value in values:
        counts[min(max(int(value / bin_s), 0), bins - 1)] += 1
    return counts
