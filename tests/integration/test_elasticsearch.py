"""The search adapter against the real Elasticsearch node of the local stack."""

from __future__ import annotations

import socket

import pytest

from pipeline import search
from pipeline.config import Settings
from schemas.models import Article
from tests.conftest import SEED
from tests.support.articles import make_article

pytestmark = pytest.mark.services


def _seed_title_and_body() -> tuple[str, str]:
    text = SEED.read_text(encoding="utf-8")
    front, body = text.split("---", 2)[1:]
    title = next(line for line in front.splitlines() if line.startswith("title:")).split(":", 1)[1].strip().strip('"')
    return title, body


def test_info_is_a_genuine_elasticsearch_8(stack: Settings) -> None:
    info = search.client(stack).info()  # the client itself refuses servers without the product header
    assert info["version"]["number"].startswith("8.")
    assert info["tagline"] == "You Know, for Search"


def test_cjk_index_finds_the_seed(isolated: Settings) -> None:
    es = search.client(isolated)
    index = f"{isolated.index_alias}-cjk"
    es.indices.create(
        index=index,
        mappings={
            "properties": {"title": {"type": "text", "analyzer": "cjk"}, "body": {"type": "text", "analyzer": "cjk"}}
        },
    )
    tokens = [t["token"] for t in es.indices.analyze(index=index, analyzer="cjk", text="跨境电商")["tokens"]]
    assert tokens == ["跨境", "境电", "电商"]
    title, body = _seed_title_and_body()
    es.index(index=index, id="seed", document={"title": title, "body": body}, refresh="wait_for")
    es.index(index=index, id="other", document={"title": "科创板开市五周年", "body": "研发投入"}, refresh="wait_for")
    hits = es.search(index=index, query={"multi_match": {"query": "跨境电商综试区", "fields": ["title", "body"]}})
    assert [h["_id"] for h in hits["hits"]["hits"]] == ["seed"]
    es.indices.delete(index=index)


def _article(n: int, version: int, title: str = "跨境电商综试区方案出炉") -> Article:
    return make_article(f"a{n}", title=title, url=None, summary="摘要", tags=["t"], keywords=["k"], version=version)


def test_index_template_alias_and_external_versions(isolated: Settings) -> None:
    es = search.client(isolated)
    name = search.ensure_index(es, isolated)
    assert search.ensure_index(es, isolated) == name  # idempotent
    assert list(es.indices.get_alias(name=isolated.index_alias)) == [name]
    mapping = es.indices.get_mapping(index=name)[name]["mappings"]["properties"]
    assert mapping["title"]["analyzer"] == "cjk" and mapping["tags"]["type"] == "keyword"

    first = search.bulk_index(es, [_article(1, 100), _article(2, 100)], isolated.index_alias)
    assert (first.ok, first.stale, first.retry, first.dead) == (2, 0, [], [])
    newer = search.bulk_index(es, [_article(1, 200, title="更新后的标题")], isolated.index_alias)
    assert newer.ok == 1
    replay = search.bulk_index(es, [_article(1, 100), _article(2, 100)], isolated.index_alias)
    assert (replay.ok, replay.stale) == (0, 2)  # an older or equal copy never overwrites
    es.indices.refresh(index=isolated.index_alias)
    assert es.get(index=isolated.index_alias, id="a1")["_source"]["title"] == "更新后的标题"
    assert es.count(index=isolated.index_alias)["count"] == 2
    hits = search.search(es, isolated.index_alias, "跨境电商综试区")
    assert [h["_id"] for h in hits] == ["a2"]
    assert "«" in hits[0]["highlight"]["title"][0]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_node_list_with_an_unreachable_node_still_reaches_the_live_one(isolated: Settings) -> None:
    """Several nodes in NEWSFLOW_ES_URL: a refused connection moves the request on to the next node at once."""
    dead = f"http://127.0.0.1:{_closed_port()}"
    for round_, urls in enumerate(([dead, isolated.es_url], [isolated.es_url, dead])):
        settings = isolated.model_copy(update={"es_url": ",".join(urls)})
        es = search.client(settings)
        search.ensure_index(es, settings)
        for n in range(6):  # the pool picks nodes round-robin: every request meets the dead one at some point
            result = search.bulk_index(es, [_article(10 * round_ + n, 100)], settings.index_alias)
            assert result.ok == 1
        assert search.ping(settings) is not None
    es.indices.refresh(index=isolated.index_alias)
    assert es.count(index=isolated.index_alias)["count"] == 12


def test_a_live_index_gains_the_fields_the_mapping_gained(isolated: Settings) -> None:
    """An index made by an older template (no `tickers`, `editor`, `original_title`) takes documents that
    have them once `ensure_index` ran, as every worker runs it at start; its data stays."""
    from schemas.index_template import ARTICLE_MAPPING

    es = search.client(isolated)
    added = ("tickers", "editor", "original_title")
    older = {
        **ARTICLE_MAPPING,
        "properties": {k: v for k, v in ARTICLE_MAPPING["properties"].items() if k not in added},
    }
    es.indices.create(
        index=isolated.index_name, mappings=older, aliases={isolated.index_alias: {"is_write_index": True}}
    )
    old_doc = make_article("old", title="旧文章").model_dump(mode="json", exclude=set(added))
    es.index(index=isolated.index_alias, id="old", document=old_doc, refresh="wait_for")

    assert search.ensure_index(es, isolated) == isolated.index_name
    mapping = es.indices.get_mapping(index=isolated.index_name)[isolated.index_name]["mappings"]["properties"]
    assert {name: mapping[name]["type"] for name in added} == {
        "tickers": "keyword",
        "editor": "keyword",
        "original_title": "text",
    }
    new = make_article("new", title="港交所目标价下调", tickers=["0388.HK"], editor="王蒙", version=2)
    result = search.bulk_index(es, [new], isolated.index_alias)
    assert (result.ok, result.dead, result.retry) == (1, [], []), result
    es.indices.refresh(index=isolated.index_alias)
    assert es.count(index=isolated.index_alias, query={"term": {"tickers": "0388.HK"}})["count"] == 1
    assert es.count(index=isolated.index_alias)["count"] == 2
