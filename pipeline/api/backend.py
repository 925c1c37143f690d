"""The read API's side of Elasticsearch: one lazily built client, and its failures as our own errors.

`Unavailable` (the cluster is down, busy, or the alias does not exist yet) becomes a 503;
`UpstreamError` (the cluster refused a request, or holds a document that is not an Article) a 502.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError
from pydantic import ValidationError

from pipeline import search
from pipeline.api import queries
from pipeline.api.models import Facets, Health, SearchResult, StoryArticles
from pipeline.config import Settings
from pipeline.errors import NewsflowError
from pipeline.retry import Outcome, classify_status
from schemas.models import Article

EsFactory = Callable[[Settings], Elasticsearch]
T = TypeVar("T")
REQUEST_TIMEOUT_S = 10.0
HEALTH_TIMEOUT_S = 3.0


class Unavailable(NewsflowError):
    """Elasticsearch cannot answer now (down, overloaded, or the alias is missing)."""


class UpstreamError(NewsflowError):
    """Elasticsearch answered, but not with something we can serve."""


def default_es_factory(settings: Settings) -> Elasticsearch:
    return search.client(settings, timeout_s=REQUEST_TIMEOUT_S)


def _index_missing(exc: ApiError) -> bool:
    body = exc.body if isinstance(exc.body, Mapping) else {}
    error = body.get("error")
    return isinstance(error, Mapping) and error.get("type") == "index_not_found_exception"


class Backend:
    """Reads the configured alias. Thread-safe: FastAPI runs the (sync) endpoints in a thread pool."""

    def __init__(self, settings: Settings, es_factory: EsFactory = default_es_factory) -> None:
        self.settings = settings
        self._factory = es_factory
        self._client: Elasticsearch | None = None
        self._lock = threading.Lock()

    @property
    def ranking(self) -> queries.Ranking:
        return queries.Ranking(
            zone=self.settings.zone,
            recency_half_life_days=self.settings.search_recency_half_life_days,
            recency_boost=self.settings.search_recency_boost,
        )

    @property
    def alias(self) -> str:
        return self.settings.index_alias

    @property
    def es(self) -> Elasticsearch:
        with self._lock:
            if self._client is None:
                self._client = self._factory(self.settings)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _alias_missing(self) -> Unavailable:
        return Unavailable(f"the index alias {self.alias!r} does not exist yet; create it with `newsflow index init`")

    def _failure(self, exc: Exception) -> NewsflowError:
        host, port = self.settings.es_host_port  # never the URL itself: it may carry credentials
        if isinstance(exc, ApiError):
            if isinstance(exc, NotFoundError) and _index_missing(exc):
                return self._alias_missing()
            if classify_status(exc.status_code) is Outcome.RETRY:
                return Unavailable(f"Elasticsearch is busy or failing (status {exc.status_code}); try again shortly")
            return UpstreamError(f"Elasticsearch refused the request: {exc.status_code} {exc.message}")
        return Unavailable(f"Elasticsearch at {host}:{port} is unreachable; is it running? ({type(exc).__name__})")

    def _call(self, request: Callable[[Elasticsearch], T]) -> T:
        try:
            return request(self.es)
        except (ApiError, TransportError) as exc:
            raise self._failure(exc) from exc

    def _articles(self, read: Callable[[], T], what: str) -> T:
        try:
            return read()
        except ValidationError as exc:
            raise UpstreamError(
                f"{what} in {self.alias!r} does not match the Article schema: {exc.error_count()} error(s)"
            ) from exc

    def search(
        self, params: queries.SearchParams, *, with_facets: bool = False
    ) -> tuple[SearchResult, queries.PageFacets | None]:
        body = queries.search_body(params, self.ranking, with_facets=with_facets)
        response = self._call(lambda es: es.search(index=self.alias, body=body).body)
        result = self._articles(lambda: queries.read_search(response, params), "a document")
        facets = queries.read_page_facets(response["aggregations"]) if with_facets else None
        return result, facets

    def facets(self) -> Facets:
        response = self._call(lambda es: es.search(index=self.alias, body=queries.facets_body()).body)
        return queries.read_facets(response["aggregations"])

    def article(self, article_id: str) -> Article | None:
        def get(es: Elasticsearch) -> Mapping[str, Any] | None:
            try:
                document: Mapping[str, Any] = es.get(index=self.alias, id=article_id).body
                return document
            except NotFoundError as exc:
                if _index_missing(exc):
                    raise
                return None  # the alias exists; the document does not

        found = self._call(get)
        if found is None:
            return None
        return self._articles(lambda: Article.model_validate(found["_source"]), f"document {article_id!r}")

    def story(self, story_id: str) -> StoryArticles | None:
        """A story's size and first-seen article (its story document, when it has two or more articles) and
        its copies in the index, earliest published first; None when neither exists."""

        def read(es: Elasticsearch) -> tuple[Mapping[str, Any] | None, Mapping[str, Any]]:
            try:
                document: Mapping[str, Any] | None = es.get(index=self.settings.stories_index, id=story_id).body
            except NotFoundError:
                document = None
            hits = es.search(index=self.alias, body=queries.story_body(story_id)).body
            return document, hits

        document, response = self._call(read)
        articles = self._articles(
            lambda: [Article.model_validate(hit["_source"]) for hit in response["hits"]["hits"]], "a document"
        )
        return queries.read_story(story_id, document["_source"] if document else None, articles)

    def health(self) -> Health:
        def check(es: Elasticsearch) -> Health:
            quick = es.options(request_timeout=HEALTH_TIMEOUT_S)
            version = str(quick.info()["version"]["number"])
            try:
                indices = sorted(quick.indices.get_alias(name=self.alias))
            except NotFoundError as exc:  # answers {"error": "alias [..] missing"}, not index_not_found
                raise self._alias_missing() from exc
            documents = int(quick.count(index=self.alias)["count"])
            return Health(status="ok", elasticsearch=version, alias=self.alias, indices=indices, documents=documents)

        return self._call(check)
