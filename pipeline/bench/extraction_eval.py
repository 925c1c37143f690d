"""`newsflow eval extraction`: every extractor over the page set, scored against the expected text and timed.

For each page and extractor: precision, recall and F1 of the extracted text (see `textmatch` for the
metric), and the CPU time of one extraction (the fastest of `repeat` runs, after a warm-up pass over all pages so
that imports and lazily loaded models are not counted). Per extractor: the mean precision and the mean recall
over the pages, F1 as their harmonic mean, the mean of the pages' own F1 and the lowest one, CPU
milliseconds per page and pages per second per core (pages / total CPU time), and the same figures per
group of pages (split, origin, language) so that no one kind of page hides another.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.bench import candidates, pageset, textmatch
from pipeline.errors import NewsflowError

DEFAULT_REPEAT = 3
BASELINE = "trafilatura"


@dataclass(frozen=True)
class PageScore:
    page: str
    precision: float
    recall: float
    f1: float
    cpu_ms: float


@dataclass(frozen=True)
class Summary:
    pages: int
    precision: float
    recall: float
    f1: float  # harmonic mean of the mean precision and the mean recall
    mean_page_f1: float
    min_page_f1: float
    cpu_ms_per_page: float
    pages_per_s_per_core: float


@dataclass
class Scores:
    name: str
    version: str | None
    available: bool
    note: str | None = None
    pages: list[PageScore] = field(default_factory=list)

    def summary(self, keep: Callable[[str], bool] = lambda _: True) -> Summary | None:
        chosen = [score for score in self.pages if keep(score.page)]
        if not chosen:
            return None
        precision = sum(s.precision for s in chosen) / len(chosen)
        recall = sum(s.recall for s in chosen) / len(chosen)
        cpu_ms = sum(s.cpu_ms for s in chosen)
        return Summary(
            pages=len(chosen),
            precision=precision,
            recall=recall,
            f1=textmatch.harmonic(precision, recall),
            mean_page_f1=sum(s.f1 for s in chosen) / len(chosen),
            min_page_f1=min(s.f1 for s in chosen),
            cpu_ms_per_page=cpu_ms / len(chosen),
            pages_per_s_per_core=1000 * len(chosen) / cpu_ms if cpu_ms else float("inf"),
        )


@dataclass
class Evaluation:
    pages: list[pageset.Page]
    scores: list[Scores]
    repeat: int

    def groups(self) -> dict[str, Callable[[str], bool]]:
        """Named subsets of the pages: each split, each origin, Chinese and other languages."""
        by_id = {page.id: page for page in self.pages}
        found: dict[str, Callable[[str], bool]] = {"all": lambda _: True}
        for split in sorted({page.split for page in self.pages}):
            found[f"split {split}"] = lambda pid, s=split: by_id[pid].split == s  # type: ignore[misc]
        for origin in sorted({page.origin for page in self.pages}):
            found[f"origin {origin}"] = lambda pid, o=origin: by_id[pid].origin == o  # type: ignore[misc]
        found["language zh"] = lambda pid: by_id[pid].language == "zh"
        found["other languages"] = lambda pid: by_id[pid].language != "zh"
        return found

    def of(self, name: str) -> Scores | None:
        return next((s for s in self.scores if s.name == name and s.available), None)


def _cpu_ms(extract: candidates.Extract, page: pageset.Page, repeat: int) -> tuple[str, float]:
    best = float("inf")
    text = ""
    for _ in range(max(1, repeat)):
        start = time.process_time()
        text = extract(page.html, page.url)
        best = min(best, time.process_time() - start)
    return text, 1000 * best


def evaluate(
    pages: Sequence[pageset.Page], names: Sequence[str] = candidates.NAMES, *, repeat: int = DEFAULT_REPEAT
) -> Evaluation:
    results: list[Scores] = []
    for name in names:
        found = candidates.candidate(name)
        scores = Scores(found.name, found.version, found.extract is not None, found.note)
        results.append(scores)
        if found.extract is None or not pages:
            continue
        for page in pages:  # warm up: imports and lazily loaded models (language identification) not timed
            found.extract(page.html, page.url)
        for page in pages:
            text, cpu_ms = _cpu_ms(found.extract, page, repeat)
            match = textmatch.match(text, page.text)
            scores.pages.append(PageScore(page.id, match.precision, match.recall, match.f1, cpu_ms))
    return Evaluation(list(pages), results, repeat)


def run(directory: Path | None, *, split: str, names: Sequence[str], repeat: int) -> Evaluation:
    return evaluate(pageset.load(directory, split=split), names, repeat=repeat)


# --- output ------------------------------------------------------------------------------------------------


def _speed_ratio(evaluation: Evaluation, name: str) -> float | None:
    """How many times faster than trafilatura (its CPU per page / this one's), in the same run."""
    baseline, this = evaluation.of(BASELINE), evaluation.of(name)
    if baseline is None or this is None:
        return None
    theirs, ours = baseline.summary(), this.summary()
    if theirs is None or ours is None or not ours.cpu_ms_per_page:
        return None
    return theirs.cpu_ms_per_page / ours.cpu_ms_per_page


def _summary_json(summary: Summary | None) -> dict[str, float | int] | None:
    if summary is None:
        return None
    return {key: round(value, 4) if isinstance(value, float) else value for key, value in summary.__dict__.items()}


def to_json(evaluation: Evaluation) -> dict[str, Any]:
    groups = evaluation.groups()
    return {
        "metric": "token-bigram shingles (CJK and Thai characters are tokens, other words are tokens); "
        "F1 = harmonic mean of mean precision and mean recall",
        "repeat": evaluation.repeat,
        "pages": [
            {"id": p.id, "site": p.site, "origin": p.origin, "split": p.split, "language": p.language}
            for p in evaluation.pages
        ],
        "extractors": {
            scores.name: {
                "version": scores.version,
                "available": scores.available,
                "note": scores.note,
                "speed_ratio_vs_trafilatura": _round(_speed_ratio(evaluation, scores.name)),
                "summary": {group: _summary_json(scores.summary(keep)) for group, keep in groups.items()},
                "pages": [{k: _round(v) for k, v in score.__dict__.items()} for score in scores.pages],
            }
            for scores in evaluation.scores
        },
    }


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def table(evaluation: Evaluation, *, per_page: bool = True) -> str:
    available = [s for s in evaluation.scores if s.available]
    lines: list[str] = []
    if per_page and available:
        width = max(len(p.id) for p in evaluation.pages) + 2
        header = f"{'page':<{width}}{'lang':<6}{'split':<10}" + "".join(f"{s.name[:22]:>24}" for s in available)
        lines += ["F1 per page (CPU ms per page)", header]
        index = {s.name: {p.page: p for p in s.pages} for s in available}
        for page in evaluation.pages:
            cells = "".join(
                f"{index[s.name][page.id].f1:>15.3f} ({index[s.name][page.id].cpu_ms:>5.1f})" for s in available
            )
            lines.append(f"{page.id:<{width}}{page.language:<6}{page.split:<10}{cells}")
        lines.append("")
    lines.append(
        f"{'extractor':<26}{'group':<22}{'pages':>6}{'P':>8}{'R':>8}{'F1':>8}{'page F1':>9}{'min F1':>8}"
        f"{'ms/page':>9}{'pages/s':>9}{'vs traf.':>9}"
    )
    for scores in evaluation.scores:
        if not scores.available:
            lines.append(f"{scores.name:<26}{scores.note or 'unavailable'}")
            continue
        ratio = _speed_ratio(evaluation, scores.name)
        for group, keep in evaluation.groups().items():
            summary = scores.summary(keep)
            if summary is None:
                continue
            speed = f"{ratio:>8.1f}x" if ratio is not None and group == "all" else f"{'':>9}"
            lines.append(
                f"{scores.name if group == 'all' else '':<26}{group:<22}{summary.pages:>6}{summary.precision:>8.3f}"
                f"{summary.recall:>8.3f}{summary.f1:>8.3f}{summary.mean_page_f1:>9.3f}{summary.min_page_f1:>8.3f}"
                f"{summary.cpu_ms_per_page:>9.2f}{summary.pages_per_s_per_core:>9.0f}{speed}"
            )
    versions = ", ".join(f"{s.name} {s.version}" for s in evaluation.scores if s.version)
    lines += ["", f"versions: {versions}; CPU time is the fastest of {evaluation.repeat} runs per page"]
    return "\n".join(lines)


def command(
    *, pages: str | None, split: str, extractors: str | None, repeat: int, per_page: bool, json_path: str | None
) -> int:
    """`newsflow eval extraction`: print the table (and write the JSON); 0 even when an extractor is missing."""
    names = [name.strip() for name in extractors.split(",") if name.strip()] if extractors else list(candidates.NAMES)
    unknown = [name for name in names if name not in candidates.NAMES]
    if unknown or not names:
        raise NewsflowError(f"unknown extractor {', '.join(unknown) or '(none)'}: use {', '.join(candidates.NAMES)}")
    if repeat < 1:
        raise NewsflowError("--repeat must be at least 1")
    evaluation = run(Path(pages) if pages else None, split=split, names=names, repeat=repeat)
    print(table(evaluation, per_page=per_page))
    if json_path:
        Path(json_path).write_text(json.dumps(to_json(evaluation), ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nJSON: {json_path}")
    return 0
