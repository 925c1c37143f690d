"""The Elasticsearch index template for Article documents.

Text fields use the built-in `cjk` analyzer (bigrams for Chinese, Japanese and Korean;
standard tokens for other scripts) so full-text search, including Kibana's, works on
Chinese out of the box. Everything filtered or aggregated on is a keyword.
"""

from __future__ import annotations

from typing import Any

_TEXT = {"type": "text", "analyzer": "cjk"}
_KEYWORD = {"type": "keyword"}
_DATE = {"type": "date"}

ARTICLE_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "schema_version": {"type": "integer"},
        "id": _KEYWORD,
        "url": {"type": "keyword", "ignore_above": 2048},
        "title": {**_TEXT, "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "summary": _TEXT,
        "body_text": {**_TEXT, "index_options": "offsets"},
        "attribution": _KEYWORD,
        "editor": _KEYWORD,
        "original_title": _TEXT,
        "published_at": _DATE,
        "language": _KEYWORD,
        "outlet": _KEYWORD,
        "category": _KEYWORD,
        "tags": _KEYWORD,
        "keywords": _KEYWORD,
        "tickers": _KEYWORD,
        "authors": _KEYWORD,
        "char_count": {"type": "integer"},
        "content_hash": _KEYWORD,
        "source_id": _KEYWORD,
        "source_type": _KEYWORD,
        "fetched_at": _DATE,
        "normalized_at": _DATE,
        "version": {"type": "long"},
        "pipeline_version": _KEYWORD,
        "story_id": _KEYWORD,
        "sources": {
            "type": "object",
            "properties": {
                "source_id": _KEYWORD,
                "source_type": _KEYWORD,
                "outlet": _KEYWORD,
                "url": {"type": "keyword", "ignore_above": 2048},
                "fetched_at": _DATE,
                "tags": _KEYWORD,
            },
        },
    },
}


def index_template(alias: str, *, shards: int = 1, replicas: int = 0) -> dict[str, Any]:
    """A composable index template for every versioned index `<alias>-v<N>`."""
    return {
        "index_patterns": [f"{alias}-v*"],
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "refresh_interval": "1s",
            },
            "mappings": ARTICLE_MAPPING,
        },
        "_meta": {"description": "newsflow articles", "article_schema_version": 1},
    }


# Story grouping (see pipeline.stories). Records: one per article, its fingerprint and story. Only what is
# searched is mapped (LSH keys, time, story); the sketch rides in _source. One shard: the records' sequence
# numbers order every write, which is how two stories founded at the same moment are told apart.
STORY_RECORD_MAPPING: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "article_id": _KEYWORD,
        "story_id": _KEYWORD,
        "keys": _KEYWORD,
        "at": _DATE,
        "written_at": _DATE,
        "writer": _KEYWORD,  # a token of the worker that wrote the record (its recheck looks past its own)
    },
}

# Stories of two or more articles: size, first-seen article, members; kept current as copies arrive.
STORY_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "story_id": _KEYWORD,
        "size": {"type": "integer"},
        "first_seen_id": _KEYWORD,
        "first_seen_at": _DATE,
        "last_seen_at": _DATE,
        "members": _KEYWORD,
        "updated_at": _DATE,
    },
}


def story_index_body(mapping: dict[str, Any], *, replicas: int = 0) -> dict[str, Any]:
    """Settings and mappings of a story index (records or stories): one shard, as the order of writes needs."""
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": replicas, "refresh_interval": "1s"},
        "mappings": mapping,
    }
