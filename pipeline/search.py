"""Thin adapter around the Elasticsearch client: index setup, bulk writes, searches.

The index worker `create`s an article's first document from the message bytes as they are (`bulk_body`
builds a bulk request's body once, as bytes, from each document's JSON: no parsing and dumping again).
Copies of an article that has a document (from several sources, or replayed) go through `store_articles`:
they are merged into its document (`pipeline.provenance.merge`) read in real time, and the merged document
is written conditionally on the version read (`if_seq_no`/`if_primary_term`; `create` when there was
none). An older copy changes nothing and is not written (Outcome.STALE); a document that changed meanwhile
is read and merged again. `bulk_index` (plain external versioning on the article's `version`) remains for
measuring the bulk ceiling.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from elastic_transport import JsonSerializer, NdjsonSerializer
from elasticsearch import (
    ApiError,
    BadRequestError,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    TransportError,
)
from elasticsearch.helpers import streaming_bulk

from pipeline.config import Settings
from pipeline.errors import PermanentError, RetryableError
from pipeline.provenance import fold, merge
from pipeline.retry import Outcome, classify_status
from schemas.index_template import (
    ARTICLE_MAPPING,
    STORY_MAPPING,
    STORY_RECORD_MAPPING,
    index_template,
    story_index_body,
)
from schemas.models import Article

log = logging.getLogger(__name__)


class _Json(JsonSerializer):
    """The client's JSON serializer with msgspec in place of the standard library: an answer of hits with their
    sources (the story grouping's candidates, hundreds per batch) or of a bulk request's items decodes about
    three times faster. Dates, UUIDs and decimals are written as msgspec writes them (RFC 3339, text, numbers);
    anything else goes to the client's own `default`."""

    _encoder = msgspec.json.Encoder(decimal_format="number")
    _decoder = msgspec.json.Decoder()

    def json_dumps(self, data: Any) -> bytes:
        try:
            return self._encoder.encode(data)
        except TypeError:  # a type msgspec does not know: the client's rules (or its error)
            return msgspec.json.encode(data, enc_hook=self.default)

    def json_loads(self, data: bytes) -> Any:
        return self._decoder.decode(data)


class _NdjsonBytes(_Json, NdjsonSerializer):
    """The client's NDJSON serializer, but a body that is already bytes goes out as it is: the default
    copies it twice (into a bytearray, then back into bytes), megabytes per bulk request. Lines given as
    objects are written with msgspec (`_Json`)."""

    def dumps(self, data: Any) -> bytes:
        if isinstance(data, bytes):
            return data if data.endswith(b"\n") else data + b"\n"
        return bytes(super().dumps(data))


def client(settings: Settings, *, timeout_s: float = 30.0) -> Elasticsearch:
    """A client for the configured node or nodes; it connects on first use.

    A request that cannot reach a node (refused, reset) goes at once to the next one, and the node rests
    (1 s, doubling up to 30 s) before it is tried again. Statuses and timeouts are never retried here: the
    callers decide on those (`pipeline.retry`), with backoff.
    """
    urls = settings.es_urls
    kwargs: dict[str, Any] = {
        "request_timeout": timeout_s,
        "retry_on_timeout": False,
        "max_retries": len(urls) - 1,
        "retry_on_status": (),
        "serializers": {JsonSerializer.mimetype: _Json(), NdjsonSerializer.mimetype: _NdjsonBytes()},
    }
    if settings.es_api_key:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_file:
        kwargs["ca_certs"] = str(settings.es_ca_file)
    return Elasticsearch(urls, **kwargs)


def _translate(exc: Exception, what: str) -> Exception:
    if isinstance(exc, (ConnectionError, ConnectionTimeout)):
        return RetryableError(f"Elasticsearch unreachable while {what}: {exc}")
    if isinstance(exc, ApiError):
        if classify_status(exc.status_code) is Outcome.RETRY:
            return RetryableError(f"Elasticsearch busy or failing ({exc.status_code}) while {what}")
        return PermanentError(f"Elasticsearch refused {what}: {exc.status_code} {exc.message}")
    return RetryableError(f"Elasticsearch error while {what}: {exc}")


def ensure_index(es: Elasticsearch, settings: Settings, *, version: int | None = None, point_alias: bool = True) -> str:
    """Install the template, create `<alias>-v<N>` if missing and (optionally) point the alias at it.

    Idempotent; returns the index name. An alias that already exists is left alone, and with
    `point_alias` no index is created then: the name returned is the alias's index, which after
    `newsflow index reindex` is newer than `settings.index_version` (moving the alias is reindex's job).
    """
    name = f"{settings.index_alias}-v{version or settings.index_version}"
    try:
        es.indices.put_index_template(
            name=f"{settings.index_alias}-template",
            **index_template(settings.index_alias, shards=settings.index_shards, replicas=settings.index_replicas),
        )
        if point_alias and (current := alias_targets(es, settings.index_alias)):
            name = current[0]
            _add_new_fields(es, name)
        elif not es.indices.exists(index=name):
            try:
                es.indices.create(index=name)
            except ApiError as exc:
                if exc.status_code != 400 or "resource_already_exists" not in str(exc):
                    raise
        if point_alias and not es.indices.exists_alias(name=settings.index_alias):
            es.indices.update_aliases(
                actions=[{"add": {"index": name, "alias": settings.index_alias, "is_write_index": True}}]
            )
        es.cluster.health(index=name, wait_for_status="yellow", timeout="20s")
    except (ApiError, TransportError) as exc:
        raise _translate(exc, f"setting up index {name}") from exc
    if point_alias:
        ensure_story_indices(es, settings)
    return name


def _add_new_fields(es: Elasticsearch, index: str) -> None:
    """Give a live index the fields the mapping gained since it was created (new fields are additive).

    A field whose mapping changed cannot be updated in place: that is `newsflow index reindex`'s job,
    and the index is left as it is, with a warning.
    """
    try:
        es.indices.put_mapping(index=index, properties=ARTICLE_MAPPING["properties"])
    except BadRequestError as exc:
        log.warning("index %s: its mapping differs from the template (%s); run `newsflow index reindex`", index, exc)


def ensure_story_indices(es: Elasticsearch, settings: Settings) -> None:
    """Create the story grouping's indices (records and stories) when missing; idempotent."""
    for name, mapping in (
        (settings.story_records_index, STORY_RECORD_MAPPING),
        (settings.stories_index, STORY_MAPPING),
    ):
        try:
            if es.indices.exists(index=name):
                es.indices.put_mapping(index=name, properties=mapping["properties"])  # fields added since
            else:
                try:
                    es.indices.create(index=name, **story_index_body(mapping, replicas=settings.index_replicas))
                except ApiError as exc:
                    if exc.status_code != 400 or "resource_already_exists" not in str(exc):
                        raise
            es.cluster.health(index=name, wait_for_status="yellow", timeout="20s")
        except (ApiError, TransportError) as exc:
            raise _translate(exc, f"setting up index {name}") from exc


def alias_targets(es: Elasticsearch, alias: str) -> list[str]:
    """The indices `alias` points at, sorted; empty when there is no such alias."""
    try:
        return sorted(es.indices.get_alias(name=alias))
    except NotFoundError:
        return []
    except (ApiError, TransportError) as exc:
        raise _translate(exc, f"reading alias {alias}") from exc


def swap_alias(es: Elasticsearch, alias: str, old: str, new: str) -> None:
    """Move `alias` from `old` to `new` (as its write index) in ONE `_aliases` call.

    Both actions apply together or not at all, so a reader sees `old` until the call returns and
    `new` after it, never neither nor both. If `alias` no longer points at `old` (someone else
    moved it) the call fails as a whole and nothing changes.
    """
    actions: list[dict[str, Any]] = [
        {"remove": {"index": old, "alias": alias}},
        {"add": {"index": new, "alias": alias, "is_write_index": True}},
    ]
    try:
        es.indices.update_aliases(actions=actions)
    except (ApiError, TransportError) as exc:
        raise _translate(exc, f"moving alias {alias} from {old} to {new}") from exc


def bulk_actions(articles: Sequence[Article], index: str) -> Iterator[dict[str, Any]]:
    """The bulk actions of a batch as the client's helpers take them: external versioning, `_id` = article id,
    the source as JSON text (the client sends a string source as is, saving a dict round trip)."""
    for article in articles:
        if article.story_id is None:  # every document has a story (its own at least): results collapse on it
            article = article.model_copy(update={"story_id": article.id})
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": article.id,
            "version": article.version,
            "version_type": "external",
            "_source": article.model_dump_json(),
        }


@dataclass(frozen=True)
class Document:
    """One document to write: its `_id`, its external version and its source, JSON bytes written as they are."""

    id: str
    version: int
    source: bytes


MAX_BULK_BYTES = 20 * 1024 * 1024  # one request per this many bytes of body (Elasticsearch takes up to 100 MB)


def bulk_body(documents: Sequence[Document], index: str, *, create: bool = False) -> bytes:
    """The NDJSON body of a bulk request that indexes `documents` with external versioning (or, with
    `create`, creates them: a document that exists answers 409).

    Each source goes in as it is, unless it spans lines (pretty-printed JSON would break the framing):
    that one is re-encoded on one line.
    """
    head = b'{"' + (b"create" if create else b"index") + b'":{"_index":' + json.dumps(index).encode() + b',"_id":'
    parts: list[bytes] = []
    for doc in documents:
        source = doc.source
        if b"\n" in source or b"\r" in source:
            source = json.dumps(json.loads(source), ensure_ascii=False, separators=(",", ":")).encode()
        parts += (
            head,
            json.dumps(doc.id).encode(),
            b"}}\n" if create else b',"version":%d,"version_type":"external"}}\n' % doc.version,
            source,
            b"\n",
        )
    return b"".join(parts)


def _chunks(documents: Sequence[Document], max_bytes: int) -> Iterator[Sequence[Document]]:
    start, size = 0, 0
    for n, doc in enumerate(documents):
        if size and size + len(doc.source) > max_bytes:
            yield documents[start:n]
            start, size = n, 0
        size += len(doc.source) + 120
    if start < len(documents):
        yield documents[start:]


Written = tuple[Outcome, str | None]  # a document's outcome, and the reason when it is dead-lettered


def bulk_write(
    es: Elasticsearch, documents: Sequence[Document], index: str, *, refresh: bool = False, create: bool = False
) -> list[Written]:
    """Write `documents` in as few bulk requests as the size allows; each one's outcome, in order.
    With `refresh`, each request also makes its documents searchable before it answers; with `create`,
    a document that exists is not written (Outcome.STALE: its 409).

    Raises RetryableError if the cluster is unreachable or answers the request itself with 429/5xx.
    """
    outcomes: list[Written] = []
    for chunk in _chunks(documents, MAX_BULK_BYTES):
        try:
            # The client's NDJSON serializer sends a bytes body as it is (its type hints know only actions).
            body: Any = bulk_body(chunk, index, create=create)
            answer = es.bulk(
                operations=body, filter_path="items.*.status,items.*.error", refresh=True if refresh else None
            ).body
        except (ApiError, TransportError) as exc:
            raise _translate(exc, "bulk indexing") from exc
        items = answer.get("items") or []
        if len(items) != len(chunk):
            raise RetryableError(f"a bulk request of {len(chunk)} documents was answered for {len(items)}")
        for item in items:
            info: dict[str, Any] = next(iter(item.values()), {})
            outcome = classify_status(int(info.get("status", 500)))
            reason = None
            if outcome is Outcome.DEAD_LETTER:
                error = info.get("error", {})
                if isinstance(error, dict):
                    reason = f"{error.get('type', 'error')}: {error.get('reason', str(error))}"
                else:
                    reason = f"error: {error}"
            outcomes.append((outcome, reason))
    return outcomes


@dataclass
class BulkResult:
    ok: int = 0
    stale: int = 0
    stored: list[Article] = field(default_factory=list)  # the `ok` ones
    retry: list[Article] = field(default_factory=list)
    dead: list[tuple[Article, str]] = field(default_factory=list)


def bulk_index(es: Elasticsearch, articles: Sequence[Article], index: str) -> BulkResult:
    """Write a batch of articles; classify each document's outcome.

    Raises RetryableError if the cluster is unreachable."""
    result = BulkResult()
    # Every document has a story (its own at least): results collapse on it.
    articles = [a if a.story_id is not None else a.model_copy(update={"story_id": a.id}) for a in articles]
    documents = [Document(a.id, a.version, a.__pydantic_serializer__.to_json(a)) for a in articles]
    for article, (outcome, reason) in zip(articles, bulk_write(es, documents, index), strict=True):
        if outcome is Outcome.OK:
            result.ok += 1
            result.stored.append(article)
        elif outcome is Outcome.STALE:
            result.stale += 1
        elif outcome is Outcome.RETRY:
            result.retry.append(article)
        else:
            result.dead.append((article, reason or "rejected"))
    return result


MERGE_ATTEMPTS = 5  # a document that keeps changing between our read and our write is tried this often


def _current(es: Elasticsearch, index: str, ids: Sequence[str]) -> dict[str, tuple[Article | None, int, int]]:
    """The stored documents of these ids, read in real time: (article, seq_no, primary_term); a stored
    document that is no Article any more is returned as None (it is overwritten)."""
    try:
        body = es.mget(index=index, ids=list(ids), realtime=True).body
    except NotFoundError:
        return {}
    except (ApiError, TransportError) as exc:
        raise _translate(exc, "reading documents to merge") from exc
    found: dict[str, tuple[Article | None, int, int]] = {}
    for doc in body["docs"]:
        if not doc.get("found"):
            continue
        try:
            article: Article | None = Article.model_validate(doc["_source"])
        except ValueError:
            article = None
        found[doc["_id"]] = (article, int(doc["_seq_no"]), int(doc["_primary_term"]))
    return found


def store_articles(es: Elasticsearch, articles: Sequence[Article], index: str, *, refresh: bool = False) -> BulkResult:
    """Merge a batch into the stored documents and write what changed (see the module docstring); with
    `refresh`, the writes are searchable when this returns.

    Raises RetryableError if the cluster is unreachable, or if documents kept changing under us.
    """
    copies: dict[str, list[Article]] = {}
    for article in articles:
        copies.setdefault(article.id, []).append(article)
    incoming = {article_id: fold(group) for article_id, group in copies.items()}
    result = BulkResult()
    pending = sorted(incoming)
    for _ in range(MERGE_ATTEMPTS):
        current = _current(es, index, pending)
        actions: list[dict[str, Any]] = []
        written: list[Article] = []
        for article_id in pending:
            stored = current.get(article_id)
            document = merge(stored[0] if stored else None, incoming[article_id])
            if document is None:
                result.stale += 1
                continue
            action: dict[str, Any] = {"_index": index, "_id": article_id, "_source": document.model_dump_json()}
            if stored is None:
                action["_op_type"] = "create"
            else:
                action.update(_op_type="index", if_seq_no=stored[1], if_primary_term=stored[2])
            actions.append(action)
            written.append(document)
        pending = []
        try:
            for (ok, info), document in zip(
                streaming_bulk(
                    es,
                    actions,
                    chunk_size=500,
                    max_chunk_bytes=20 * 1024 * 1024,
                    raise_on_error=False,
                    raise_on_exception=False,
                    max_retries=0,
                    refresh="true" if refresh else None,
                ),
                written,
                strict=True,
            ):
                item: dict[str, Any] = next(iter(info.values()), {})
                status = int(item.get("status", 500))
                if ok:
                    result.ok += 1
                    result.stored.append(document)
                elif status == 409:  # written by someone else since we read it: read and merge again
                    pending.append(document.id)
                elif classify_status(status) is Outcome.RETRY:
                    result.retry.extend(copies[document.id])
                else:
                    error = item.get("error", {})
                    reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
                    kind = error.get("type", "error") if isinstance(error, dict) else "error"
                    result.dead.append((document, f"{kind}: {reason}"))
        except (ApiError, TransportError) as exc:
            raise _translate(exc, "bulk indexing") from exc
        if not pending:
            return result
    raise RetryableError(f"{len(pending)} documents kept changing while being merged, e.g. {pending[0]}")


def search(es: Elasticsearch, alias: str, query: str, *, size: int = 10) -> list[dict[str, Any]]:
    """Full-text search over title, summary and body; hits best first, with highlighted snippets."""
    body: dict[str, Any] = {
        "query": {
            "multi_match": {
                "query": query,
                "fields": ["title^3", "summary^2", "body_text", "tags^2", "keywords^2"],
                "type": "best_fields",
                "operator": "and",
            }
        },
        "highlight": {
            "pre_tags": ["\u00ab"],
            "post_tags": ["\u00bb"],
            "fields": {
                "title": {"number_of_fragments": 0},
                "body_text": {"fragment_size": 80, "number_of_fragments": 2},
            },
        },
    }
    try:
        resp = es.search(index=alias, size=size, **body)
    except NotFoundError:
        return []
    except (ApiError, TransportError) as exc:
        raise _translate(exc, f"searching {alias}") from exc
    return list(resp["hits"]["hits"])


def ping(settings: Settings) -> str | None:
    """The server's version if it answers as a genuine Elasticsearch, else None."""
    try:
        info = client(settings, timeout_s=3.0).info()
        return str(info["version"]["number"])
    except Exception:  # noqa: BLE001 - any failure means "not up"
        return None
