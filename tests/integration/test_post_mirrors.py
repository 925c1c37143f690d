"""Both real post mirrors of ../shared/data through the real stack: poll -> Kafka -> normalize -> index.

The two sources as sources.yaml and the README configure them (finews with its `outlets:` mapping,
the Hexo mirror with no fixed outlet or category), enabled, are polled into the test's own topics;
the workers run until idle; the index then holds one document per story, each with the category,
outlet, date and tickers that reading the posts says (tests/support/post_corpus.py), and no outlet
trailer. The read API finds them by ticker typed as an editor types it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline import deadletters, kafka, search
from pipeline.api.backend import Backend
from pipeline.api.queries import SearchParams
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.sources.catalog import load_sources
from pipeline.workers.main import run_indexer, run_normalizer
from tests.support import post_corpus
from tests.support.post_corpus import EDITORS, TICKERS, Post, comparable, posts, trailers_in

pytestmark = pytest.mark.services


def _stories() -> list[Post]:
    """One post per story: finews keeps 7 posts twice (the `old_post_` copy is the same story)."""
    names = {post.name for post in posts()}
    return [p for p in posts() if not (p.name.startswith("old_post_") and p.name.removeprefix("old_post_") in names)]


def _sources_file(tmp: Path) -> Path:
    """sources.yaml's two mirror sources, enabled."""
    entries = [
        {**source.model_dump(mode="json", exclude_defaults=True), "path": str(source.path), "enabled": True}
        for source in post_corpus.configured().values()
    ]
    path = tmp / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": entries}, allow_unicode=True), encoding="utf-8")
    return path


def _all_documents(es: Any, alias: str) -> list[dict[str, Any]]:
    hits = es.search(index=alias, size=500, query={"match_all": {}})["hits"]["hits"]
    return [hit["_source"] for hit in hits]


def test_both_mirrors_end_as_one_correct_document_per_story(isolated: Settings, tmp_path: Path) -> None:
    settings = isolated.model_copy(update={"sources": _sources_file(tmp_path)})
    kafka.ensure_topics(settings)
    emitter = KafkaEmitter(settings)
    try:
        reports = {source.id: poll_one(settings, source, emitter) for source in load_sources(settings.sources)}
    finally:
        emitter.close()
    assert {sid: (r.fetched, r.new, r.failed) for sid, r in reports.items()} == {
        "finews": (158, 158, 0),
        "rsshub-page": (60, 60, 0),
    }

    run_normalizer(settings, until_idle_s=3.0)
    run_indexer(settings, until_idle_s=3.0)
    es = search.client(settings)
    es.indices.refresh(index=settings.index_alias)

    assert list(deadletters.read(settings)) == []
    documents = _all_documents(es, settings.index_alias)
    stories = _stories()
    assert len(stories) == 211 and len(documents) == len(stories)

    # categories and outlets, as the manifest and the outlets mapping say
    assert Counter(doc["category"] for doc in documents) == Counter(post.category for post in stories)
    assert Counter(doc["outlet"] for doc in documents) == Counter(post.outlet for post in stories)

    # each story, found by its outlet and title, has its date, category, tickers, editor and a clean body
    by_key = {(doc["outlet"], comparable(doc["title"])): doc for doc in documents}
    assert len(by_key) == len(documents)
    for post in stories:
        doc = by_key[(post.outlet, comparable(post.title))]
        stored = doc["published_at"]
        assert (datetime.fromisoformat(stored) if stored else None) == post.published, post.name
        assert doc["category"] == post.category, post.name
        assert set(doc["tickers"]) == TICKERS.get(post.name, set()), post.name
        assert doc["editor"] == EDITORS.get(post.name), post.name
        assert doc["source_id"] == post.folder
        assert trailers_in(doc["body_text"]) == [], post.name

    # no trailer is found by full-text search either
    for phrase in ("海量资讯、精准解读，尽在新浪财经APP", "责任编辑", "免责声明", "返回首页", "每经AI快讯", "原标题"):
        query = {"match_phrase": {"body_text": phrase}}
        assert es.count(index=settings.index_alias, query=query)["count"] == 0, phrase

    # the seed story keeps its category, outlet and tag
    (seed,) = [doc for doc in documents if doc["category"] == "21shijijingjibaodao"]
    assert (seed["outlet"], seed["tags"]) == ("21世纪经济报道", ["21世纪经济报道新闻"])

    # tickers are a keyword facet and a filter of the read API, typed in any form
    backend = Backend(settings)
    try:
        facets = {value.value: value.count for value in backend.facets().ticker}
        assert facets["0388.HK"] == 2 and facets["600519.SH"] == 2
        for typed in ("00388", "0388.HK", "00388.HK", "388.hk"):
            result, _ = backend.search(SearchParams.model_validate({"ticker": [typed]}))
            assert {hit.article.tickers[0] for hit in result.hits} == {"0388.HK"} and result.total == 2, typed
        result, _ = backend.search(SearchParams.model_validate({"ticker": ["600519"], "q": "茅台"}))
        assert result.total == 2
    finally:
        backend.close()
