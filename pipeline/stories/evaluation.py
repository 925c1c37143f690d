"""`newsflow eval stories`: story grouping measured on real posts against a labelled set.

Every post of the corpus (default `../shared/data`: one folder per mirror) goes through the pipeline's own
post parser (`pipeline.sources.jekyll.parse`) and transform (`pipeline.transform.to_article`), as a poll
and the normalize worker would. Each *file* is its own article here (its id is made from its path), so the
copies a mirror keeps in two folders, which share a link and hence an article id in the pipeline, must be
grouped by the similarity method itself. Stories are then assigned by the real method
(`StoryGrouping`) against Elasticsearch, in indices of this run only (removed afterwards), in batches in
publication order (or shuffled, `--shuffle SEED`: the order a worker sees posts in is not theirs), and the
predicted groups are scored with `pipeline.stories.labels`.

Posts the parser refuses get no story: the scores are given over the pairs of parsed files (what the
grouping method is answerable for) and, for recall, over every labelled pair as well (end to end).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline import search
from pipeline.config import Settings
from pipeline.errors import ConfigError, PermanentError
from pipeline.normalize.ids import make_id
from pipeline.sources import jekyll
from pipeline.stories.grouping import StoryGrouping, article_fingerprints
from pipeline.stories.labels import Labels, Score, predicted_pairs, score
from pipeline.stories.store import StoryStore
from pipeline.transform import to_article
from schemas.models import Article, SourceInfo, SourceType

FETCHED_AT = datetime(2026, 1, 1, tzinfo=UTC)  # one fetch time for the whole corpus: runs are reproducible
DEFAULT_BATCH = 20


@dataclass(frozen=True)
class Post:
    name: str  # folder/file
    article: Article | None
    problem: str | None = None


def read_corpus(root: Path) -> list[Post]:
    """Every `*.md` post in the folders of `root`, parsed and normalized (or with the reason it was refused)."""
    if not root.is_dir():
        raise ConfigError(f"corpus folder {root} does not exist (the real posts live in ../shared/data)")
    posts: list[Post] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        source = SourceInfo(id=folder.name, type=SourceType.JEKYLL, outlet=folder.name, category="corpus")
        for path in sorted(folder.glob("*.md")):
            name = f"{folder.name}/{path.name}"
            try:
                raw = jekyll.parse(path.read_bytes(), source, path=name, fetched_at=FETCHED_AT)
                article = to_article(raw, normalized_at=FETCHED_AT)
            except PermanentError as exc:
                posts.append(Post(name, None, str(exc)))
                continue
            posts.append(Post(name, article.model_copy(update={"id": make_id("file", name)})))
    return posts


@dataclass
class Evaluation:
    files: int
    parsed: int
    refused: dict[str, str]
    stories: dict[str, str | None]  # file -> story id
    copies: Score  # over pairs of parsed files
    events: Score
    copies_end_to_end: Score  # over every labelled pair
    events_end_to_end: Score
    missed_copies: list[tuple[str, str]] = field(default_factory=list)
    wrong_pairs: list[tuple[str, str]] = field(default_factory=list)
    titles: dict[str, str] = field(default_factory=dict)
    fingerprint_us: float = 0.0
    requests: int = 0
    batches: int = 0
    seconds: float = 0.0


@contextmanager
def _scratch_indices(settings: Settings) -> Iterator[Settings]:
    """Settings whose story indices belong to this run only; they are removed afterwards."""
    run = uuid.uuid4().hex[:10]
    scratch = settings.model_copy(update={"index_alias": f"nfeval{run}-news-articles"})
    es = search.client(scratch)
    try:
        search.ensure_story_indices(es, scratch)
        yield scratch
    finally:
        for name in (scratch.story_records_index, scratch.stories_index):
            es.options(ignore_status=404).indices.delete(index=name)
        es.close()


def evaluate(
    settings: Settings,
    labels: Labels,
    corpus: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    shuffle: int | None = None,
) -> Evaluation:
    posts = read_corpus(corpus)
    names = {post.name for post in posts}
    unknown = sorted(labels.files - names)
    if unknown:
        raise ConfigError(f"the labels name {len(unknown)} files the corpus does not have, e.g. {unknown[:3]}")
    if labels.corpus_files and labels.corpus_files != len(posts):
        raise ConfigError(f"the labels were made for {labels.corpus_files} posts; {corpus} has {len(posts)}")
    parsed = [post for post in posts if post.article is not None]
    by_id = {post.article.id: post.name for post in parsed if post.article is not None}
    articles = sorted(
        (post.article for post in parsed if post.article is not None),
        key=lambda a: (a.published_at or a.fetched_at, by_id[a.id]),
    )
    if shuffle is not None:
        random.Random(shuffle).shuffle(articles)
    window = timedelta(days=settings.story_window_days)
    started = time.perf_counter()
    article_fingerprints(articles[:10])  # warm up
    cpu = time.process_time()
    for start in range(0, len(articles), batch_size):
        article_fingerprints(articles[start : start + batch_size])
    fingerprint_us = (time.process_time() - cpu) / max(len(articles), 1) * 1e6
    stories: dict[str, str | None] = {post.name: None for post in posts}
    with _scratch_indices(settings) as scratch:
        es = search.client(scratch)
        try:
            store = StoryStore(es, scratch)
            grouping = StoryGrouping(store, window)
            batches = 0
            for start in range(0, len(articles), batch_size):
                outcome = grouping.assign(articles[start : start + batch_size])
                batches += 1
                for article_id, decision in outcome.decisions.items():
                    stories[by_id[article_id]] = decision.story_id
            requests = store.requests
        finally:
            es.close()
    predicted = predicted_pairs(stories)
    parsed_names = [post.name for post in parsed]
    copies, events = score(labels, predicted, among=parsed_names)
    copies_all, events_all = score(labels, predicted)
    kept = set(parsed_names)
    return Evaluation(
        files=len(posts),
        parsed=len(parsed),
        refused={post.name: post.problem or "" for post in posts if post.article is None},
        stories=stories,
        copies=copies,
        events=events,
        copies_end_to_end=copies_all,
        events_end_to_end=events_all,
        missed_copies=sorted(p for p in labels.copies - predicted if p[0] in kept and p[1] in kept),
        wrong_pairs=sorted(predicted - labels.events - labels.uncertain),
        titles={post.name: post.article.title for post in parsed if post.article is not None},
        fingerprint_us=fingerprint_us,
        requests=requests,
        batches=batches,
        seconds=time.perf_counter() - started,
    )


def _line(label: str, value: Score) -> str:
    return (
        f"{label:<28} precision {value.precision:6.3f} ({value.correct}/{value.predicted})"
        f"   recall {value.recall:6.3f} ({value.found}/{value.labelled})"
    )


def report(result: Evaluation) -> list[str]:
    lines = [
        f"posts: {result.files}, parsed and normalized: {result.parsed}, refused by the parser: {len(result.refused)}",
        "pairwise scores of story_id over pairs of parsed posts:",
        _line("  copies", result.copies),
        _line("  same event (copies incl.)", result.events),
        "end to end (every labelled pair; a refused post is in no story):",
        _line("  copies", result.copies_end_to_end),
        _line("  same event (copies incl.)", result.events_end_to_end),
        f"cost: fingerprint {result.fingerprint_us:.1f} µs per article (CPU); {result.requests} Elasticsearch requests "
        f"for {result.batches} batches; {result.seconds:.1f} s in all",
    ]
    for a, b in result.missed_copies:
        lines.append(f"  missed copy: {result.titles.get(a, a)[:40]} | {result.titles.get(b, b)[:40]}")
    for a, b in result.wrong_pairs:
        lines.append(f"  grouped, labelled different: {result.titles.get(a, a)[:40]} | {result.titles.get(b, b)[:40]}")
    return lines


def command(
    settings: Settings,
    labels_path: Path,
    corpus: Path,
    *,
    batch_size: int = DEFAULT_BATCH,
    shuffle: int | None = None,
) -> int:
    if not labels_path.is_file():
        raise ConfigError(f"labels file {labels_path} does not exist")
    result = evaluate(settings, Labels.read(labels_path), corpus, batch_size=batch_size, shuffle=shuffle)
    for line in report(result):
        print(line)
    return 0
