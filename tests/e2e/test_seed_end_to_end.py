"""The seed story from a post folder and from a feed, through DAGs, Kafka, both workers and Elasticsearch."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import yaml

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.workers.main import run_indexer, run_normalizer
from tests.conftest import SEED
from tests.e2e.conftest import RunDags

pytestmark = pytest.mark.services

CANONICAL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688"


def _seed_parts() -> tuple[dict[str, object], str, str]:
    text = SEED.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front)
    link = re.search(r"^<(http[^>]+)>$", body, re.M)
    assert link
    return meta, body[: link.start()].strip(), link.group(1)


def _write_sources(tmp: Path) -> Path:
    meta, html, link = _seed_parts()
    posts = tmp / "posts"
    posts.mkdir()
    (posts / SEED.name).write_bytes(SEED.read_bytes())
    published = datetime.strptime(str(meta["date"]), "%Y-%m-%d %H:%M:%S %z")
    feed = tmp / "feed.xml"
    feed.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>21世纪经济报道</title><link>https://finews.withounder.com/</link>"
        f"<item><title>{escape(str(meta['title']))}</title>"
        f"<link>{escape(link + '&utm_source=rss&utm_medium=feed')}</link>"
        f"<pubDate>{format_datetime(published)}</pubDate><category>{escape(str(meta['tags']))}</category>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item></channel></rss>",
        encoding="utf-8",
    )
    common = {
        "outlet": "21世纪经济报道",
        "category": "21shijijingjibaodao",
        "tags": ["21世纪经济报道新闻"],
        "trusted": True,
        "schedule": "@hourly",
    }
    sources = tmp / "sources.yaml"
    sources.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {"id": "seed-posts", "type": "jekyll", "path": str(posts), **common},
                    {"id": "seed-feed", "type": "feed", "url": feed.as_uri(), **common},
                ]
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return sources


def _raw_end_offsets(settings: Settings) -> int:
    return sum(kafka.end_offsets(settings, settings.topic_raw).values())


def test_seed_from_posts_and_feed_is_one_searchable_article(
    isolated: Settings, tmp_path: Path, run_dags: RunDags
) -> None:
    settings = isolated.model_copy(update={"sources": _write_sources(tmp_path)})
    kafka.ensure_topics(settings)
    es = search.client(settings)
    search.ensure_index(es, settings)

    states = run_dags(settings, settings.sources, ["poll__hourly"])  # both sources are on @hourly
    assert states == {"poll__hourly": "success"}
    assert _raw_end_offsets(settings) == 2  # one raw item from each source

    run_normalizer(settings, until_idle_s=2.0)
    run_indexer(settings, until_idle_s=2.0)
    es.indices.refresh(index=settings.index_alias)

    docs = es.search(index=settings.index_alias, size=10)["hits"]["hits"]
    assert len(docs) == 1, [d["_source"]["url"] for d in docs]
    doc = docs[0]["_source"]
    meta, _, _ = _seed_parts()
    assert docs[0]["_id"] == doc["id"]
    assert doc["url"] == CANONICAL
    assert doc["title"] == meta["title"]
    assert doc["published_at"].replace("+00:00", "Z") == "2022-05-05T13:38:33Z"
    assert doc["language"] == "zh"
    assert (doc["outlet"], doc["category"]) == ("21世纪经济报道", "21shijijingjibaodao")
    assert "21世纪经济报道新闻" in doc["tags"]
    assert {"跨境电商", "综试区"} <= set(doc["keywords"])
    body = doc["body_text"]
    assert "返回首页" not in body and "返回21世纪经济报道新闻" not in body and "<" not in body
    assert "http" not in body and "文章来源" not in body
    assert "21世纪经济报道" in (doc["attribution"] or "")
    assert "跨境电商联动产业纵深发展" in body.splitlines()
    assert doc["char_count"] == len(body)

    hits = search.search(es, settings.index_alias, "跨境电商综试区")
    assert hits and hits[0]["_id"] == doc["id"]

    before_offsets, before_version = _raw_end_offsets(settings), doc["version"]
    states = run_dags(settings, settings.sources, ["poll__hourly"])
    assert states == {"poll__hourly": "success"}
    assert _raw_end_offsets(settings) == before_offsets  # nothing new pushed
    run_normalizer(settings, until_idle_s=2.0)
    run_indexer(settings, until_idle_s=2.0)
    es.indices.refresh(index=settings.index_alias)
    assert es.count(index=settings.index_alias)["count"] == 1
    assert es.get(index=settings.index_alias, id=doc["id"])["_source"]["version"] == before_version
