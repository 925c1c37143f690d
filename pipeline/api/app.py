"""The FastAPI application: `create_app(settings)` builds it; nothing connects until the first request.

Endpoints: `GET /search`, `GET /articles/{id}`, `GET /stories/{id}`, `GET /facets`, `GET /healthz`, the
search page `GET /`, and the OpenAPI docs at `/docs`. Errors are always JSON `{"detail": "..."}` (HTML on
the page): 422 for bad parameters, 404 for a missing article or story, 503 when Elasticsearch or the alias is not there,
502 when Elasticsearch answers with something we cannot serve.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import ValidationError

from pipeline.api import page
from pipeline.api.backend import Backend, EsFactory, Unavailable, UpstreamError, default_es_factory
from pipeline.api.models import Facets, Health, Problem, SearchResult, StoryArticles
from pipeline.api.queries import InvalidSearch, SearchParams
from pipeline.config import PIPELINE_VERSION, Settings
from pipeline.lexicon.query import analyze_query
from schemas.models import Article

MAX_ID_CHARS = 256
_LIST_PARAMS = ("outlet", "category", "tag", "ticker")

_DESCRIPTION = """
Read-only access to the newsflow article index (the Elasticsearch alias it is configured with).

* `GET /search` — full-text search (Chinese and any other language) with filters, highlights and pages.
  What a query names is also searched under its other names (上交所 finds 上海证券交易所, Fed finds
  美联储, 00388 finds 港交所); `from`/`to` dates are days in the newsroom's time zone.
* `GET /articles/{id}` — one article by id.
* `GET /stories/{id}` — a story: its size, first-seen article, outlets and copies.
* `GET /facets` — the values the filters accept, most frequent first.
* `GET /healthz` — Elasticsearch reachable and the alias present.
* `GET /` — the same search as an HTML page.

Errors are JSON objects with a `detail` message: 422 bad parameter, 404 no such article or story,
503 Elasticsearch (or the alias) unavailable, 502 Elasticsearch answered with something unusable.
"""

_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "A parameter is invalid; `detail` says which and why."},
    502: {"model": Problem, "description": "Elasticsearch answered with something that cannot be served."},
    503: {"model": Problem, "description": "Elasticsearch is unreachable or busy, or the alias does not exist."},
}


def describe_errors(errors: Sequence[Any]) -> str:
    """Pydantic/FastAPI validation errors as one line: `size: Input should be less than or equal to 100; …`."""
    parts: list[str] = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "path", "body")]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc[-1]}: {message}" if loc else message)
    return "; ".join(parts)


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail})


def _form(request: Request) -> dict[str, list[str]]:
    return {key: request.query_params.getlist(key) for key in request.query_params}


def _params_from(form: dict[str, list[str]]) -> SearchParams:
    values: dict[str, Any] = {
        key: (items if key in _LIST_PARAMS else items[-1]) for key, items in form.items() if items
    }
    return SearchParams.model_validate(values)


def create_app(settings: Settings, es_factory: EsFactory = default_es_factory) -> FastAPI:
    backend = Backend(settings, es_factory)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        analyze_query("港交所 00388")  # loads the segmenter's dictionary and the alias list before the first query
        yield
        backend.close()

    app = FastAPI(
        title="newsflow read API",
        version=PIPELINE_VERSION,
        description=_DESCRIPTION,
        lifespan=lifespan,
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _problem(422, f"invalid request: {describe_errors(exc.errors())}")

    @app.exception_handler(InvalidSearch)
    async def _incoherent(_: Request, exc: InvalidSearch) -> JSONResponse:
        return _problem(422, f"invalid request: {exc}")

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        return _problem(503, str(exc))

    @app.exception_handler(UpstreamError)
    async def _upstream(_: Request, exc: UpstreamError) -> JSONResponse:
        return _problem(502, str(exc))

    @app.get("/search", response_model=SearchResult, responses=_ERRORS, summary="Search articles")
    def search(params: Annotated[SearchParams, Query()]) -> SearchResult:
        """Full text over title, summary and body (cjk analyzer), and every name of what the query names (the
        finance alias list, stock codes in any form); most relevant first, newer first at equal relevance;
        newest first without `q`."""
        result, _ = backend.search(params)
        return result

    @app.get(
        "/articles/{article_id}",
        response_model=Article,
        responses={404: {"model": Problem, "description": "No article with that id."}, **_ERRORS},
        summary="One article",
    )
    def article(article_id: Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)]) -> Article:
        found = backend.article(article_id)
        if found is None:
            raise HTTPException(404, detail=f"no article with id {article_id!r} in {settings.index_alias!r}")
        return found

    @app.get(
        "/stories/{story_id}",
        response_model=StoryArticles,
        responses={404: {"model": Problem, "description": "No story with that id."}, **_ERRORS},
        summary="One story and its copies",
    )
    def story(story_id: Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)]) -> StoryArticles:
        """The copies of one story across sources, outlets and days, earliest published first."""
        found = backend.story(story_id)
        if found is None:
            raise HTTPException(404, detail=f"no story with id {story_id!r} in {settings.index_alias!r}")
        return found

    @app.get("/facets", response_model=Facets, responses=_ERRORS, summary="Filter values")
    def facets() -> Facets:
        return backend.facets()

    @app.get("/healthz", response_model=Health, responses=_ERRORS, summary="Health")
    def healthz() -> Health:
        return backend.health()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request) -> HTMLResponse:
        form = _form(request)

        def show(**parts: Any) -> page.PageView:
            return page.PageView(form=form, zone=settings.zone, **parts)

        view, status = show(), 200
        try:
            params = _params_from(form)
            result, found_facets = backend.search(params, with_facets=True)
            everything, matching = (found_facets.everything, found_facets.matching) if found_facets else (None, None)
            view = show(params=params, result=result, facets=everything, matching=matching)
        except ValidationError as exc:
            status, view = 422, show(error=f"Invalid search: {describe_errors(exc.errors())}")
        except InvalidSearch as exc:
            status, view = 422, show(error=f"Invalid search: {exc}")
        except Unavailable as exc:
            status, view = 503, show(error=f"Search is unavailable: {exc}")
        except UpstreamError as exc:
            status, view = 502, show(error=f"Search failed: {exc}")
        return HTMLResponse(
            page.render(view),
            status_code=status,
            headers={"Content-Security-Policy": page.CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff"},
        )

    return app
