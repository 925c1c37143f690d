"""What the read API answers, as pydantic models (they are also its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from schemas.models import Article


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)


class Copy(_Answer):
    """Another article of the same story (in a search: one that matches the query too)."""

    id: str
    title: str
    outlet: str
    url: str | None
    published_at: datetime | None


class StoryGroup(_Answer):
    """The story of a hit: the other copies that matched are folded into it."""

    id: str = Field(description="The story id (the `story_id` of every copy).")
    copies: int = Field(description="How many articles of this story match, this hit included.")
    more: list[Copy] = Field(
        default_factory=list,
        description="The other matching copies, earliest published first (at most a few; `copies` counts all).",
    )


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
    story: StoryGroup | None = Field(
        default=None, description="The hit's story: one hit per story, its other matching copies folded in."
    )


class SearchResult(_Answer):
    query: str = Field(description="The full-text query as used (trimmed); empty when listing newest first.")
    total: int = Field(description="How many articles match in all.")
    stories: int | None = Field(
        default=None, description="How many stories those articles make (hits are one per story); null: not counted."
    )
    page: int
    size: int
    pages: int = Field(description="How many pages can be requested (at most 10000 results are reachable).")
    hits: list[Hit]


class StoryArticles(_Answer):
    """A story and its copies."""

    id: str
    size: int = Field(description="How many articles the story has (all sources, outlets and days).")
    first_seen_id: str = Field(description="The story's first article: the earliest published copy.")
    first_seen_at: datetime | None
    outlets: list[str] = Field(description="The outlets that carried it, in order of first publication.")
    articles: list[Article] = Field(description="The copies, earliest published first (at most 100).")


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
