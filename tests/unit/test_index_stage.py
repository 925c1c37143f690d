"""The index stage's pure parts: reading the head of an article message, the bulk body built from message bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.search import Document, bulk_body
from pipeline.workers.index import Message, read_head, split_copies
from schemas.models import Article

ID = "0" * 31 + "1"


def article(**overrides: object) -> Article:
    fields: dict[str, object] = {
        "id": ID,
        "url": "https://example.com/a",
        "title": "港交所",
        "summary": "摘要",
        "body_text": "正文\n第二段",
        "published_at": datetime(2024, 6, 1, 2, 39, tzinfo=UTC),
        "language": "zh",
        "outlet": "21世纪经济报道",
        "category": "finance",
        "tags": [],
        "keywords": [],
        "char_count": 7,
        "content_hash": "0" * 64,
        "source_id": "posts",
        "source_type": "jekyll",
        "fetched_at": datetime(2024, 6, 1, 3, 0, tzinfo=UTC),
        "normalized_at": datetime(2024, 6, 1, 3, 0, 1, tzinfo=UTC),
        "version": 1717210800000,
        "pipeline_version": "0.1.0",
    }
    fields.update(overrides)
    return Article.model_validate(fields)


def test_head_of_an_article_message() -> None:
    head = read_head(article().model_dump_json().encode())
    assert (head.id, head.version, head.source_id, head.title) == (ID, 1717210800000, "posts", "港交所")
    assert head.fetched_at == datetime(2024, 6, 1, 3, 0, tzinfo=UTC)
    assert head.published_at == datetime(2024, 6, 1, 2, 39, tzinfo=UTC)


def test_head_without_publication_date() -> None:
    assert read_head(article(published_at=None).model_dump_json().encode()).published_at is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d.pop("version"), "version"),
        (lambda d: d.update(version="soon"), "version"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d.update(fetched_at="yesterday"), "fetched_at"),
        (lambda d: d.update(fetched_at="2024-06-01T03:00:00"), "offset"),
        (lambda d: d.pop("title"), "title"),
    ],
)
def test_heads_that_are_refused(change: object, says: str) -> None:
    data = json.loads(article().model_dump_json())
    change(data)  # type: ignore[operator]
    with pytest.raises(ValueError, match=says):
        read_head(json.dumps(data).encode())


@pytest.mark.parametrize("value", [b"", b"not json", b"[1, 2]", b'{"id": 1}'])
def test_garbage_is_refused(value: bytes) -> None:
    with pytest.raises(ValueError):
        read_head(value)


def test_bulk_body_passes_each_source_through() -> None:
    sources = [
        article(version=1).model_dump_json().encode(),
        article(id="a" * 32, version=2).model_dump_json().encode(),
    ]
    body = bulk_body([Document(ID, 1, sources[0]), Document("a" * 32, 2, sources[1])], "news-articles-v1")
    lines = body.split(b"\n")
    assert lines[-1] == b"" and len(lines) == 5
    assert json.loads(lines[0]) == {
        "index": {"_index": "news-articles-v1", "_id": ID, "version": 1, "version_type": "external"}
    }
    assert lines[1] == sources[0] and lines[3] == sources[1]
    assert json.loads(lines[2])["index"]["_id"] == "a" * 32


def test_bulk_body_puts_a_multi_line_source_on_one_line_and_escapes_ids() -> None:
    pretty = json.dumps({"title": "两行\n标题", "id": ID}, ensure_ascii=False, indent=2).encode()
    body = bulk_body([Document('odd"id', 7, pretty)], "idx")
    action, source, end = body.split(b"\n")
    assert json.loads(action)["index"]["_id"] == 'odd"id'
    assert json.loads(source) == {"title": "两行\n标题", "id": ID} and end == b""


def test_create_writes_each_source_as_it_is_without_a_version() -> None:
    source = article().model_dump_json().encode()
    action, written, end = bulk_body([Document(ID, 3, source)], "idx", create=True).split(b"\n")
    assert json.loads(action) == {"create": {"_index": "idx", "_id": ID}} and written == source and end == b""


def test_an_article_alone_in_the_batch_is_created_and_copies_of_one_are_merged() -> None:
    def message(item: str, version: int) -> Message:
        value = article(id=item, version=version, story_id=item).model_dump_json().encode()
        return Message(read_head(value), value)

    alone, copies = split_copies([message(ID, 3), message("b" * 32, 1), message(ID, 5), message(ID, 4)])
    assert [(m.head.id, m.head.version) for m in alone] == [("b" * 32, 1)]
    assert [(m.head.id, m.head.version) for m in copies] == [(ID, 3), (ID, 5), (ID, 4)]
    value = article(id="c" * 32, story_id=None).model_dump_json().encode()
    alone, copies = split_copies([Message(read_head(value), value)])  # from before stories: given one on merge
    assert (alone, len(copies)) == ([], 1)
