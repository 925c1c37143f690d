"""A judged corpus as the pipeline sees it: its sources polled (nothing pushed), normalized, named.

Each source of the corpus sources file is polled once with a dry-run emitter and a throwaway state
(the same code as `newsflow poll`), and each raw item goes through the normalize worker's transform.
A document is named by its file path relative to the folder above its source's folder
(`finews/2021-12-08-….md`), the name judgment files use; posts the pipeline refuses are kept with
their reason, so an evaluation can say which judged documents never reached the index.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import Settings
from pipeline.emit import DryRunEmitter
from pipeline.errors import PermanentError
from pipeline.poll import poll_source
from pipeline.sources.catalog import load_sources
from pipeline.state import StateStore
from pipeline.transform import to_article
from schemas.models import Article


@dataclass
class Corpus:
    articles: list[Article] = field(default_factory=list)
    ids: dict[str, str] = field(default_factory=dict)  # document name -> article id
    refused: dict[str, str] = field(default_factory=dict)  # document name (or source id) -> reason

    def id_of(self, name: str) -> str | None:
        return self.ids.get(name)


def _name(path: str | None, roots: list[Path]) -> str | None:
    if not path:
        return None
    file = Path(path)
    for root in roots:
        if file.is_relative_to(root):
            return file.relative_to(root.parent).as_posix()
    return None


def load_corpus(sources_file: Path, settings: Settings, *, now: datetime | None = None) -> Corpus:
    """Poll every enabled source of `sources_file` (dry run) and normalize what it yields."""
    now = now or datetime.now(UTC)
    sources = [s for s in load_sources(sources_file) if s.enabled]
    roots = [s.path.resolve() for s in sources if s.path is not None]
    corpus = Corpus()
    seen: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="newsflow-eval-") as state_dir:
        local = settings.model_copy(update={"state_dir": Path(state_dir)})
        store = StateStore(local.state_dir)
        for source in sources:
            emitter = DryRunEmitter()
            poll_source(source, local, emitter, store, force=True, dry_run=True, now=now)
            for letter in emitter.deads:
                path = str(letter.details.get("path", "")) or None
                corpus.refused[_name(path, roots) or f"{source.id}:{letter.item_id}"] = letter.error_message
            for raw in emitter.raws:
                name = _name(raw.path, roots)
                try:
                    article = to_article(raw, normalized_at=now)
                except PermanentError as exc:
                    corpus.refused[name or f"{source.id}:{raw.item_id}"] = str(exc)
                    continue
                if name:
                    corpus.ids[name] = article.id
                if article.id not in seen:  # one post saved twice (same link) is one document
                    seen.add(article.id)
                    corpus.articles.append(article)
    return corpus
