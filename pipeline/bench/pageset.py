"""The evaluation set of news pages: HTML with the article text a reader expects (tests/fixtures/pages).

`pages.json` lists each page: `id`, `html` (a file, `.html` or `.html.gz`, UTF-8), `text` (the expected
article text, one paragraph per line), the `url` it was served at, its `language`, `origin` (`written`
for pages modeled on real templates, else the package whose test data it comes from), `site`, `split`
(`dev` pages were looked at while the extractor was built; `held-out` pages were not) and, for some,
`expected` metadata.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import NewsflowError

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "pages"
SPLITS = ("all", "dev", "held-out")


@dataclass(frozen=True)
class Page:
    id: str
    html: str
    text: str
    url: str
    language: str
    origin: str
    site: str
    split: str
    expected: dict[str, Any] = field(default_factory=dict)


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def load(directory: Path | None = None, *, split: str = "all") -> list[Page]:
    folder = directory or DEFAULT_DIR
    manifest = folder / "pages.json"
    if not manifest.is_file():
        raise NewsflowError(f"no page set at {folder}: {manifest.name} is missing")
    if split not in SPLITS:
        raise NewsflowError(f"split must be one of {', '.join(SPLITS)}")
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))["pages"]
        pages = [
            Page(
                id=entry["id"],
                html=_read(folder / entry["html"]),
                text=_read(folder / entry["text"]),
                url=entry["url"],
                language=entry["language"],
                origin=entry["origin"],
                site=entry["site"],
                split=entry["split"],
                expected=entry.get("expected", {}),
            )
            for entry in entries
        ]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise NewsflowError(f"cannot read the page set at {folder}: {exc}") from exc
    return [page for page in pages if split == "all" or page.split == split]
