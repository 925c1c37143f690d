"""`newsflow bench`: run the bench, print the table, optionally write the JSON."""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.bench import report, runner
from pipeline.config import Settings


def _progress(line: str) -> None:
    print(f"[bench] {line}", file=sys.stderr, flush=True)


def bench(
    settings: Settings,
    *,
    articles: int,
    seed: int,
    freshness_s: float,
    json_path: str | None,
    pinned: bool = True,
    profile_dir: str | None = None,
) -> int:
    options = runner.Options(
        articles=articles,
        seed=seed,
        freshness_s=freshness_s,
        pinned=pinned,
        profile_dir=Path(profile_dir) if profile_dir else None,
    )
    result = runner.run(settings, options, progress=_progress)
    print(report.table(result))
    if json_path:
        picture = report.write_json(result, Path(json_path))
        print(f"\nJSON: {json_path}\npicture: {picture}")
    return 0
