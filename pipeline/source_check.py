"""`newsflow sources check ID`: what each item of a source would become, pushing nothing.

The items come from a dry-run poll (the same code path as a real poll, for every source type, with
`force` so unchanged items are listed too); each is put through the normalizer's transform. An item
the poll would send to the fetch stage (its article is on its page) is shown as the poll has it, with
a note: a check reads no article pages. A row
says what the index would get (title, date in the source's zone, category, outlet, tickers) and what
was dropped, guessed or refused on the way (the transform's notes, the dead letter's reason).
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import PurePath

from pipeline.errors import PermanentError
from pipeline.normalize.dates import source_zone
from pipeline.transform import normalize_item
from schemas.models import DeadLetter, RawItem

TITLE_COLUMNS = 34
COLUMNS = ("item", "title", "published", "category", "outlet", "tickers", "problems")


@dataclass
class CheckRow:
    item: str  # the post's file name, or the entry's link
    status: str  # "document" or "dead letter"
    title: str = ""
    published: str = ""  # in the source's zone, with its offset
    category: str = ""
    outlet: str = ""
    tickers: list[str] = field(default_factory=list)
    item_id: str | None = None
    notes: list[str] = field(default_factory=list)  # what was dropped or guessed
    problem: str | None = None  # why it is a dead letter

    def cells(self) -> tuple[str, ...]:
        problems = [self.problem] if self.problem else self.notes
        return (
            self.item,
            self.title,
            self.published or "-",
            self.category,
            self.outlet,
            " ".join(self.tickers),
            "; ".join(p for p in problems if p) or "",
        )


def _label(raw: RawItem) -> str:
    if raw.path:
        return PurePath(raw.path).name
    return raw.url or raw.guid or raw.item_id


def row_of(raw: RawItem, now: datetime) -> CheckRow:
    """What one raw item becomes: a document (with notes) or a dead letter (with the reason)."""
    try:
        result = normalize_item(raw, normalized_at=now)
    except PermanentError as exc:
        return CheckRow(_label(raw), "dead letter", title=raw.title or "", item_id=raw.item_id, problem=str(exc))
    article = result.article
    published = ""
    if article.published_at is not None:
        local = article.published_at.astimezone(source_zone(raw.source, article.language))
        published = local.isoformat(sep=" ")
    return CheckRow(
        _label(raw),
        "document",
        title=article.title,
        published=published,
        category=article.category,
        outlet=article.outlet,
        tickers=list(article.tickers),
        item_id=article.id,
        notes=list(result.notes),
    )


def dead_row(letter: DeadLetter) -> CheckRow:
    where = letter.details.get("path") or letter.details.get("url") or letter.details.get("position") or "?"
    name = PurePath(str(where)).name if "path" in letter.details else str(where)
    return CheckRow(name, "dead letter", problem=letter.error_message)


FETCH_NOTE = "its article page would be read by the fetch stage (a check reads no pages): shown as the poll has it"


def rows(
    raws: Iterable[RawItem], letters: Iterable[DeadLetter], now: datetime, *, to_fetch: Iterable[RawItem] = ()
) -> list[CheckRow]:
    found = [row_of(raw, now) for raw in raws]
    for raw in to_fetch:
        row = row_of(raw, now)
        row.notes.insert(0, FETCH_NOTE)
        found.append(row)
    return found + [dead_row(letter) for letter in letters]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _fit(text: str, columns: int) -> str:
    """`text` in `columns` display columns (CJK characters take two): cut with `…`, or padded."""
    if _width(text) > columns:
        out, used = [], 1  # room for the ellipsis
        for char in text:
            used += _width(char)
            if used > columns:
                break
            out.append(char)
        text = "".join(out) + "…"
    return text + " " * max(columns - _width(text), 0)


def table(found: list[CheckRow]) -> str:
    """The rows as an aligned text table (CJK-aware), problems last and unabridged."""
    limits = {"item": 28, "title": TITLE_COLUMNS, "published": 25, "category": 20, "outlet": 14, "tickers": 22}
    widths = {
        name: min(limits[name], max([_width(name)] + [_width(row.cells()[i]) for row in found]))
        for i, name in enumerate(COLUMNS[:-1])
    }
    lines = ["  ".join(_fit(name, widths[name]) for name in COLUMNS[:-1]) + "  problems"]
    for row in found:
        cells = row.cells()
        lines.append("  ".join(_fit(cells[i], widths[name]) for i, name in enumerate(COLUMNS[:-1])) + "  " + cells[-1])
    return "\n".join(line.rstrip() for line in lines)


def summary(found: list[CheckRow], deferred: int = 0) -> str:
    documents = [row for row in found if row.status == "document"]
    ids = {row.item_id for row in documents}
    titled = [row for row in found if row.title]
    indexed_titled = [row for row in titled if row.status == "document"]
    share = f"{100 * len(indexed_titled) / len(titled):.1f}%" if titled else "-"
    line = (
        f"{len(found)} items: {len(documents)} would be documents ({len(ids)} distinct ids), "
        f"{len(found) - len(documents)} dead letters; titled items indexed: {share}; "
        f"with notes: {sum(1 for row in documents if row.notes)}"
    )
    if deferred:
        line += f"; {deferred} more deferred by the per-poll cap"
    return line


def as_json(found: list[CheckRow]) -> str:
    return json.dumps([asdict(row) for row in found], ensure_ascii=False, indent=2)
