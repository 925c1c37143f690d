"""Which index version an alias points at, from the index name alone (no Elasticsearch)."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.reindex import index_version


@pytest.mark.parametrize(
    ("alias", "index", "version"),
    [
        ("news-articles", "news-articles-v1", 1),
        ("news-articles", "news-articles-v12", 12),
        ("t1.news", "t1.news-v3", 3),
    ],
)
def test_the_version_of_a_versioned_index(alias: str, index: str, version: int) -> None:
    assert index_version(alias, index) == version


@pytest.mark.parametrize(
    ("alias", "index"),
    [
        ("news-articles", "news-articles"),
        ("news-articles", "news-articles-legacy"),
        ("news-articles", "news-articles-v"),
        ("news-articles", "news-articles-v2-old"),
        ("news-articles", "other-news-articles-v2"),
        ("t1.news", "t1xnews-v3"),  # the alias is matched literally, not as a pattern
    ],
)
def test_anything_else_behind_the_alias_is_refused(alias: str, index: str) -> None:
    with pytest.raises(ConfigError, match="not at a versioned index"):
        index_version(alias, index)
