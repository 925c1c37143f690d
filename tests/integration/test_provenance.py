"""Copies of one article from several sources, merged into one document by the real Elasticsearch writes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from elasticsearch import Elasticsearch

from pipeline import search
from pipeline.config import Settings
from schemas.index_template import ARTICLE_MAPPING
from schemas.models import Article, SourceType
from tests.support.articles import make_article

pytestmark = pytest.mark.services

T0 = datetime(2022, 5, 5, 14, 0, tzinfo=UTC)


def _copy(article_id: str, source: str, minutes: int, tags: list[str]) -> Article:
    fetched = T0 + timedelta(minutes=minutes)
    return make_article(
        article_id,
        title=f"跨境电商综试区方案出炉 {article_id}",
        when=fetched,
        source_id=source,
        source_type=SourceType.FEED,
        tags=tags,
        version=int(fetched.timestamp() * 1000),
        content_hash=f"{source}-{minutes}",
        story_id=f"story-{article_id}",
    )


@pytest.fixture
def es(isolated: Settings) -> Iterator[Elasticsearch]:
    client = search.client(isolated)
    search.ensure_index(client, isolated)
    yield client
    client.close()


def _doc(es: Elasticsearch, settings: Settings, article_id: str) -> tuple[Article, int]:
    found = es.get(index=settings.index_alias, id=article_id)
    return Article.model_validate(found["_source"]), int(found["_seq_no"])


def test_two_sources_in_either_order_make_one_document_with_both(isolated: Settings, es: Elasticsearch) -> None:
    alias = isolated.index_alias
    posts, feed = _copy("a", "posts", 0, ["文件夹"]), _copy("a", "feed", 5, ["订阅"])
    assert search.store_articles(es, [posts], alias).ok == 1
    assert search.store_articles(es, [feed], alias).ok == 1
    assert (
        search.store_articles(es, [feed.model_copy(update={"id": "b"}), posts.model_copy(update={"id": "b"})], alias).ok
        == 1
    )
    first, second = _doc(es, isolated, "a")[0], _doc(es, isolated, "b")[0]
    assert [s.source_id for s in first.sources] == ["feed", "posts"] and set(first.tags) == {"文件夹", "订阅"}
    assert first.model_copy(update={"id": "b"}) == second.model_copy(update={"title": first.title})
    assert first.source_id == "feed" and first.story_id == "story-a"


def test_an_older_copy_is_not_written_and_changes_nothing(isolated: Settings, es: Elasticsearch) -> None:
    alias = isolated.index_alias
    newer, older = _copy("a", "posts", 10, ["新"]), _copy("a", "posts", 0, ["旧"])
    search.store_articles(es, [newer], alias)
    before = _doc(es, isolated, "a")
    result = search.store_articles(es, [older, newer], alias)
    assert (result.ok, result.stale) == (0, 1)
    assert _doc(es, isolated, "a") == before  # same document, same sequence number: nothing was written


def test_writers_racing_on_the_same_documents_lose_nothing(isolated: Settings, es: Elasticsearch) -> None:
    alias = isolated.index_alias
    ids = [f"r{n:03d}" for n in range(40)]
    sources = ["feed", "posts", "wire", "mirror"]
    barrier = threading.Barrier(len(sources))
    errors: list[BaseException] = []

    def write(source: str, minutes: int) -> None:
        client = search.client(isolated)
        try:
            barrier.wait(timeout=30)
            for _ in range(3):  # each source writes its copies three times, the others at the same moment
                result = search.store_articles(client, [_copy(i, source, minutes, [source]) for i in ids], alias)
                assert not result.dead and not result.retry
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=write, args=(s, n)) for n, s in enumerate(sources)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    es.indices.refresh(index=alias)
    for article_id in ids:
        document = _doc(es, isolated, article_id)[0]
        assert [s.source_id for s in document.sources] == sorted(sources), article_id
        assert set(document.tags) == set(sources) and document.source_id == "mirror"  # the newest copy's content


def test_an_index_made_before_stories_gets_the_new_fields(isolated: Settings) -> None:
    es = search.client(isolated)
    try:
        old = {k: v for k, v in ARTICLE_MAPPING["properties"].items() if k not in ("story_id", "sources")}
        name = f"{isolated.index_alias}-v1"
        es.indices.create(
            index=name,
            mappings={"dynamic": "strict", "properties": old},
            aliases={isolated.index_alias: {"is_write_index": True}},
        )
        assert search.ensure_index(es, isolated) == name
        mapping = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
        assert mapping["story_id"]["type"] == "keyword" and "source_id" in mapping["sources"]["properties"]
        assert search.store_articles(es, [_copy("a", "feed", 0, ["t"])], isolated.index_alias).ok == 1
    finally:
        es.close()
