"""What the read API answers, as pydantic models (they are also its OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.models import Article


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


class Hit(_Answer):
    id: str = Field(description="The article id (also the Elasticsearch _id).")
    score: float | None = Field(description="Relevance score; null when results are sorted newest first.")
    highlights: dict[str, list[str]] = Field(
        default_factory=dict,
        description=(
            "Matching fragments per field (title, summary, body_text), HTML-escaped, with each match "
            "wrapped in <mark>…</mark>: safe to insert into a page as they are."
        ),
    )
    article: Article


class SearchResult(_Answer):
    query: str = Field(description="The full-text query as used (trimmed); empty when listing newest first.")
    total: int = Field(description="How many articles match in all.")
    page: int
    size: int
    pages: int = Field(description="How many pages can be requested (at most 10000 results are reachable).")
    hits: list[Hit]


class FacetValue(_Answer):
    value: str
    count: int


class Facets(_Answer):
    """The most frequent values of each filterable field over the whole index, most frequent first."""

    outlet: list[FacetValue]
    category: list[FacetValue]
    tag: list[FacetValue]
    ticker: list[FacetValue] = Field(default_factory=list)


class Health(_Answer):
    status: str = Field(description="Always 'ok' (failures answer 503 with a detail).")
    elasticsearch: str = Field(description="Version of the Elasticsearch server.")
    alias: str
    indices: list[str] = Field(description="The versioned index (or indices) the alias points at.")
    documents: int


class Problem(_Answer):
    detail: str = Field(description="What went wrong, for a person.")
