"""The extractors measured against each other: ours and the field's best, each as `html, url -> text`.

- `ours`: `pipeline.extract.extract_article(...).body_text`.
- `trafilatura`: `trafilatura.extract` with its defaults, which keep a page's comments as part of the text.
- `trafilatura-no-comments`: the same with `include_comments=False`: the article alone.
- `rs-trafilatura`: the Rust port's Python package, `rs_trafilatura.extract(...).main_content`.
- `resiliparse`: `extract_plain_text(main_content=True, preserve_formatting=True)`, without list bullets
  and alt texts.
The others are optional (`pip install -e '.[bench]'`); one that is not installed is reported as such.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipeline.extract import extract_article

Extract = Callable[[str, str], str]
NAMES = ("ours", "trafilatura", "trafilatura-no-comments", "rs-trafilatura", "resiliparse")


@dataclass(frozen=True)
class Candidate:
    name: str
    version: str | None
    extract: Extract | None  # None when the package is not installed
    note: str | None = None


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _ours(html: str, url: str) -> str:
    return extract_article(html, url=url).body_text


def _trafilatura(comments: bool) -> Extract | None:
    try:
        module: Any = importlib.import_module("trafilatura")
    except ImportError:
        return None

    def extract(html: str, url: str) -> str:
        return str(module.extract(html, url=url, include_comments=comments) or "")

    return extract


def _rs_trafilatura() -> Extract | None:
    try:
        module: Any = importlib.import_module("rs_trafilatura")
    except ImportError:
        return None

    def extract(html: str, url: str) -> str:
        return str(module.extract(html, url=url).main_content or "")

    return extract


def _resiliparse() -> Extract | None:
    try:
        module: Any = importlib.import_module("resiliparse.extract.html2text")
    except ImportError:
        return None

    def extract(html: str, url: str) -> str:
        return str(
            module.extract_plain_text(
                html, main_content=True, preserve_formatting=True, list_bullets=False, alt_texts=False
            )
        )

    return extract


def candidate(name: str) -> Candidate:
    missing = "not installed (pip install -e '.[bench]')"
    if name == "ours":
        return Candidate(name, _version("newsflow"), _ours)
    if name in ("trafilatura", "trafilatura-no-comments"):
        found = _trafilatura(comments=name == "trafilatura")
        return Candidate(name, _version("trafilatura"), found, None if found else missing)
    if name == "rs-trafilatura":
        found = _rs_trafilatura()
        return Candidate(name, _version("rs-trafilatura"), found, None if found else missing)
    if name == "resiliparse":
        found = _resiliparse()
        return Candidate(name, _version("resiliparse"), found, None if found else missing)
    raise ValueError(f"unknown extractor {name!r}: one of {', '.join(NAMES)}")
