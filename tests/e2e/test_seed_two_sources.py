"""The seed story reached through a post folder and a feed (both in samples/), on the real stack: one document
that lists both sources and carries every tag either gave, whichever lands last, and keeps them when one
source is polled again.

Each source is polled (the poll the DAGs run), then both workers run until idle, then the other source.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline import kafka, search
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.normalize.ids import id_from_url
from pipeline.sources.catalog import find_source, load_sources
from pipeline.workers.main import run_indexer, run_normalizer
from schemas.models import Article
from tests.conftest import REPO

pytestmark = pytest.mark.services

CANONICAL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688"
POST_TAGS = ["21世纪经济报道新闻", "文件夹来源"]
FEED_TAGS = ["订阅来源"]


def _sources(tmp: Path) -> Path:
    common = {"outlet": "21世纪经济报道", "category": "21shijijingjibaodao", "trusted": True, "schedule": "@hourly"}
    path = tmp / "sources.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {
                        "id": "seed-posts",
                        "type": "jekyll",
                        "path": str(REPO / "samples" / "posts" / "21shijijingjibaodao"),
                        "tags": POST_TAGS,
                        **common,
                    },
                    {
                        "id": "seed-feed",
                        "type": "feed",
                        "url": (REPO / "samples" / "feeds" / "21shijijingjibaodao.rss.xml").as_uri(),
                        "tags": FEED_TAGS,
                        "fetch_article": "never",  # the feed's own text, not its page: no fetch stage here
                        **common,
                    },
                ]
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return path


def _poll_and_process(settings: Settings, source_id: str, *, force: bool = False) -> None:
    emitter = KafkaEmitter(settings)
    try:
        report = poll_one(settings, find_source(load_sources(settings.sources), source_id), emitter, force=force)
    finally:
        emitter.close()
    assert report.errors == [], report.errors
    run_normalizer(settings, until_idle_s=2.0)
    run_indexer(settings, until_idle_s=2.0)


@pytest.mark.parametrize(
    "order", [("seed-posts", "seed-feed"), ("seed-feed", "seed-posts")], ids=["feed-last", "posts-last"]
)
def test_the_seed_from_a_folder_and_a_feed_is_one_document_with_both_sources(
    isolated: Settings, tmp_path: Path, order: tuple[str, str]
) -> None:
    settings = isolated.model_copy(update={"sources": _sources(tmp_path)})
    kafka.ensure_topics(settings)
    es = search.client(settings)
    search.ensure_index(es, settings)
    seed_id = id_from_url(CANONICAL)

    for source_id in order:
        _poll_and_process(settings, source_id)
    es.indices.refresh(index=settings.index_alias)
    found = es.search(index=settings.index_alias, query={"term": {"url": CANONICAL}}, size=10)["hits"]["hits"]
    assert [hit["_id"] for hit in found] == [seed_id]
    seed = Article.model_validate(found[0]["_source"])
    assert [s.source_id for s in seed.sources] == ["seed-feed", "seed-posts"]
    assert {s.source_type.value for s in seed.sources} == {"feed", "jekyll"}
    assert all(s.url == CANONICAL for s in seed.sources)
    assert set(POST_TAGS + FEED_TAGS) <= set(seed.tags)
    assert seed.source_id == order[-1]  # the content of the copy that landed last (the newest fetch)
    assert seed.story_id is not None and (seed.outlet, seed.category) == ("21世纪经济报道", "21shijijingjibaodao")

    # The first source polled again (forced: a new fetch of the same items) drops nothing the other said.
    _poll_and_process(settings, order[0], force=True)
    es.indices.refresh(index=settings.index_alias)
    again = Article.model_validate(es.get(index=settings.index_alias, id=seed_id)["_source"])
    assert [s.source_id for s in again.sources] == ["seed-feed", "seed-posts"]
    assert set(POST_TAGS + FEED_TAGS) <= set(again.tags) and again.source_id == order[0]
    assert again.story_id == seed.story_id
    by_source = {s.source_id: s.fetched_at for s in again.sources}
    assert by_source[order[0]] > {s.source_id: s.fetched_at for s in seed.sources}[order[0]]
    assert es.count(index=settings.index_alias)["count"] == len(
        {hit["_id"] for hit in es.search(index=settings.index_alias, size=100)["hits"]["hits"]}
    )
    es.close()
