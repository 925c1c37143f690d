"""Thin adapter around the Elasticsearch client: index setup, bulk writes, searches.

Writes use external versioning (the article's `version`), so a replayed older copy never
overwrites a newer one: the 409 it gets back counts as success (Outcome.STALE).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

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
from pipeline.retry import Outcome, classify_status
from schemas.index_template import ARTICLE_MAPPING, index_template
from schemas.models import Article

log = logging.getLogger(__name__)


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


@dataclass
class BulkResult:
    ok: int = 0
    stale: int = 0
    stored: list[Article] = field(default_factory=list)  # the `ok` ones
    retry: list[Article] = field(default_factory=list)
    dead: list[tuple[Article, str]] = field(default_factory=list)


def bulk_actions(articles: Sequence[Article], index: str) -> Iterator[dict[str, Any]]:
    """The bulk actions of a batch: external versioning, `_id` = article id, the source as JSON text
    (the client sends a string source as is, saving a dict round trip)."""
    for article in articles:
        yield {
            "_op_type": "index",
            "_index": index,
            "_id": article.id,
            "version": article.version,
            "version_type": "external",
            "_source": article.model_dump_json(),
        }


def bulk_index(es: Elasticsearch, articles: Sequence[Article], index: str) -> BulkResult:
    """Write a batch; classify each document's outcome. Raises RetryableError if the cluster is unreachable."""
    result = BulkResult()
    try:
        for (ok, info), article in zip(
            streaming_bulk(
                es,
                bulk_actions(articles, index),
                chunk_size=500,
                max_chunk_bytes=20 * 1024 * 1024,
                raise_on_error=False,
                raise_on_exception=False,
                max_retries=0,
            ),
            articles,
            strict=True,
        ):
            item = info.get("index", {})
            outcome = Outcome.OK if ok else classify_status(int(item.get("status", 500)))
            if outcome is Outcome.OK:
                result.ok += 1
                result.stored.append(article)
            elif outcome is Outcome.STALE:
                result.stale += 1
            elif outcome is Outcome.RETRY:
                result.retry.append(article)
            else:
                error = item.get("error", {})
                reason = error.get("reason", str(error)) if isinstance(error, dict) else str(error)
                result.dead.append(
                    (article, f"{error.get('type', 'error') if isinstance(error, dict) else 'error'}: {reason}")
                )
    except (ApiError, TransportError) as exc:
        raise _translate(exc, "bulk indexing") from exc
    return result


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
