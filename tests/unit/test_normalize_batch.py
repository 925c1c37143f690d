"""The normalize stage's pure handler, and the stories put on its articles before anything is sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from pipeline.provenance import merge
from pipeline.workers import normalize
from schemas.models import RawItem


@dataclass
class Record:  # what a Kafka consumer record offers the handler
    value: bytes
    key: bytes | None = None
    topic: str = "news.raw"
    partition: int = 0
    offset: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()


@pytest.fixture
def records(make_raw: Callable[..., RawItem]) -> list[Any]:
    good = [make_raw(url=f"https://example.com/{n}", title=f"Title {n}") for n in range(3)]
    return [*(Record(r.model_dump_json().encode(), r.item_id.encode()) for r in good), Record(b"{not json", b"bad")]


def test_every_article_leaves_with_its_story_and_dead_letters_stay_as_they_are(records: list[Any]) -> None:
    output = normalize.handle(records)
    assert len(output.articles) == 3 and [d.error_type for d in output.dead] == ["invalid_raw_item"]
    first = output.articles[0].id
    stories = {article.id: first for article in output.articles}
    result = normalize.with_stories(output, stories)
    assert {a.story_id for a in result.articles} == {first} and len(result.dead) == 1
    for article in result.articles:  # each is the document its id gets when it is the first copy
        assert [s.source_id for s in article.sources] == [article.source_id]
        assert merge(None, article) == article and merge(article, article) is None
    with pytest.raises(KeyError):  # an article without a decided story is a bug, never sent without one
        normalize.with_stories(normalize.handle(records), {})
