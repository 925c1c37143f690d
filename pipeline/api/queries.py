"""The read API's Elasticsearch request bodies, built from validated parameters, and the reading of answers.

Pure: plain values in, plain values out, no client. The rules live here so they can be unit-tested
from a table and proven against the real cluster in tests/integration/test_api.py:

- full text over title, summary and body_text with the `cjk` analyzer (bigrams for Chinese), most
  relevant first; with no query, newest first (articles without a date last);
- `outlet` and `category` match any of their values, `tag` requires every given tag;
- `ticker` matches any of its values, each read in any common form (`00388`, `0388.HK`, `600519`,
  `600519.SH`) by `normalize.tickers.normalize_ticker`, the normalizer's own rules;
- `from` / `to` bound `published_at`: a date is a whole day in the newsroom's time zone (`to`
  included), a time is exact, and a time without an offset is taken in that zone;
- most relevant first, a newer story ahead of an older one at equal relevance (`Ranking`);
- highlights come back between private-use sentinels, so escaping the text for HTML cannot touch them
  and only our own `<mark>` tags survive (`safe_highlight`);
- one hit per story: results are collapsed on `story_id`, each hit carrying the other copies that match
  (`inner_hits`, earliest published first) and pages counting stories; `story=` lists one story's copies.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from pipeline.api.models import Copy, Facets, FacetValue, Hit, SearchResult, StoryArticles, StoryGroup
from pipeline.lexicon.aliases import Mention
from pipeline.lexicon.query import AnalyzedQuery, analyze_query
from pipeline.normalize.tickers import normalize_ticker
from schemas.models import Article

MAX_QUERY_CHARS = 200
MAX_FILTER_VALUES = 20
MAX_FILTER_CHARS = 200
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default index.max_result_window: from + size may not exceed it
FACET_SIZE = 100
MATCHING_FACET_SIZE = 10  # values per field among the matching stories, shown as links on the page
COPIES_SHOWN = 5  # other copies listed under a hit (the count covers them all)
STORY_COUNT_PRECISION = 40_000  # below this many stories the count is exact
_COPY_FIELDS = ["id", "title", "outlet", "url", "published_at"]

SEARCH_FIELDS = ("title^3", "summary^2", "body_text")
NAME_BIGRAMS_BOOST = 0.05  # a query of names only: its loose bigram match ranks below the names as phrases
HIGHLIGHT_PRE = "\ue000"  # private-use characters: never produced by the normalizer, untouched by html.escape
HIGHLIGHT_POST = "\ue001"
FACET_FIELDS: Mapping[str, str] = {"outlet": "outlet", "category": "category", "tag": "tags", "ticker": "tickers"}

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MARKED = re.compile(f"{HIGHLIGHT_PRE}(.*?){HIGHLIGHT_POST}", re.DOTALL)

FilterValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_FILTER_CHARS)]


@dataclass(frozen=True)
class Bound:
    """One end of a published_at range: an instant (UTC), and whether the instant itself is inside."""

    at: datetime
    inclusive: bool

    def es_value(self) -> str:
        return self.at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class InvalidSearch(ValueError):
    """Parameters that are valid one by one but not together (a 422 that says why)."""


@dataclass(frozen=True)
class Ranking:
    """How a full-text search orders stories of equal relevance, and the zone its dates are days of.

    Recency multiplies the relevance of a dated story by 1 + boost x 0.5^(age / half-life): at equal
    relevance the newer story wins, while a clearly better match stays ahead of a newer, weaker one.
    """

    zone: tzinfo = UTC
    recency_half_life_days: float = 7.0
    recency_boost: float = 0.2


def parse_bound(text: str, *, upper: bool, zone: tzinfo = UTC) -> Bound:
    """`2024-05-01` (a whole day in `zone`) or an ISO 8601 time (`2024-05-01T08:00:00+08:00`; no offset:
    the time in `zone`)."""
    try:
        if _DATE_ONLY.fullmatch(text):
            day = date.fromisoformat(text)
            if upper:  # up to the end of that day
                end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
                return Bound(end.astimezone(UTC), inclusive=False)
            return Bound(datetime.combine(day, time(), tzinfo=zone).astimezone(UTC), inclusive=True)
        moment = datetime.fromisoformat(text)
        moment = (moment.replace(tzinfo=zone) if moment.tzinfo is None else moment).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{text!r} is not a date: use YYYY-MM-DD or an ISO 8601 time such as 2024-05-01T08:00:00+08:00"
        ) from None
    return Bound(moment, inclusive=True)


class SearchParams(BaseModel):
    """The query string of `/search` and `/`; every bad value is a 422 that names it."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_QUERY_CHARS)] = Field(
        default="",
        description=f"Full-text query (any language; at most {MAX_QUERY_CHARS} characters). Empty: newest first.",
    )
    outlet: list[FilterValue] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Outlet name; repeat for any of several."
    )
    category: list[FilterValue] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Category slug; repeat for any of several."
    )
    tag: list[FilterValue] = Field(
        default_factory=list, max_length=MAX_FILTER_VALUES, description="Tag; repeat to require several."
    )
    ticker: list[FilterValue] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="Stock code in any common form (600519, 600519.SH, 00388, 0388.HK); repeat for any of several.",
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        description=(
            "Published at or after: YYYY-MM-DD (a day in the newsroom's time zone, NEWSFLOW_TIMEZONE) or an "
            "ISO 8601 time (no offset: a time in that zone)."
        ),
    )
    to: str | None = Field(
        default=None,
        description=(
            "Published at or before: YYYY-MM-DD (that whole day in the newsroom's time zone included) or an "
            "ISO 8601 time."
        ),
    )
    story: FilterValue | None = Field(
        default=None, description="Only the articles of this story (its copies, one hit each)."
    )
    page: int = Field(default=1, ge=1, description="1-based page number.")
    size: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Results per page.")

    @field_validator("outlet", "category", "tag")
    @classmethod
    def _drop_blanks(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(v for v in values if v))

    @field_validator("ticker")
    @classmethod
    def _normal_tickers(cls, values: list[str]) -> list[str]:
        normal: list[str] = []
        for value in values:
            if not value:
                continue
            code = normalize_ticker(value)
            if code is None:
                raise ValueError(f"{value!r} is not a stock code: use a form such as 600519, 600519.SH, 00388, 0388.HK")
            normal.append(code)
        return list(dict.fromkeys(normal))

    @field_validator("from_", "to")
    @classmethod
    def _valid_date(cls, value: str | None) -> str | None:
        value = (value or "").strip()
        if not value:
            return None
        parse_bound(value, upper=False)  # raises with a clear message
        return value

    @model_validator(mode="after")
    def _coherent(self) -> SearchParams:
        self.bounds(UTC)  # dates and times in one zone: out of order in one, out of order in all but rare mixes
        if self.page * self.size > MAX_RESULT_WINDOW:
            raise ValueError(
                f"page {self.page} of size {self.size} goes beyond the first {MAX_RESULT_WINDOW} results; "
                "narrow the query or filters"
            )
        return self

    def bounds(self, zone: tzinfo) -> tuple[Bound | None, Bound | None]:
        """The published_at range of `from` and `to`, their dates being days in `zone`; raises
        InvalidSearch when `from` comes after `to`."""
        lower = parse_bound(self.from_, upper=False, zone=zone) if self.from_ else None
        upper = parse_bound(self.to, upper=True, zone=zone) if self.to else None
        if lower and upper and (lower.at > upper.at or (lower.at == upper.at and not upper.inclusive)):
            raise InvalidSearch(f"`from` ({self.from_}) is after `to` ({self.to})")
        return lower, upper

    def query_items(self, *, page: int | None = None) -> list[tuple[str, str]]:
        """These parameters as query-string pairs (defaults left out), e.g. for pagination links."""
        items: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        for name in ("outlet", "category", "tag", "ticker"):
            items.extend((name, value) for value in getattr(self, name))
        items.extend(
            (name, value) for name, value in (("from", self.from_), ("to", self.to), ("story", self.story)) if value
        )
        chosen = self.page if page is None else page
        if chosen != 1:
            items.append(("page", str(chosen)))
        if self.size != DEFAULT_PAGE_SIZE:
            items.append(("size", str(self.size)))
        return items


def filter_clauses(params: SearchParams, zone: tzinfo = UTC) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    if params.outlet:
        clauses.append({"terms": {"outlet": params.outlet}})
    if params.category:
        clauses.append({"terms": {"category": params.category}})
    clauses.extend({"term": {"tags": tag}} for tag in params.tag)
    if params.ticker:
        clauses.append({"terms": {"tickers": params.ticker}})
    if params.story:
        clauses.append({"term": {"story_id": params.story}})
    lower, upper = params.bounds(zone)
    if lower or upper:
        bounds: dict[str, str] = {}
        if lower:
            bounds["gte" if lower.inclusive else "gt"] = lower.es_value()
        if upper:
            bounds["lte" if upper.inclusive else "lt"] = upper.es_value()
        clauses.append({"range": {"published_at": bounds}})
    return clauses


def _text_match(text: str, boost: float = 1.0) -> dict[str, Any]:
    """Most terms (bigrams, for Chinese) must match in one field."""
    match: dict[str, Any] = {
        "query": text,
        "fields": list(SEARCH_FIELDS),
        "type": "best_fields",
        "analyzer": "cjk",
        "minimum_should_match": "2<75%",
    }
    if boost != 1.0:
        match["boost"] = boost
    return {"multi_match": match}


def _phrase(text: str) -> dict[str, Any]:
    return {"multi_match": {"query": text, "fields": list(SEARCH_FIELDS), "type": "phrase", "analyzer": "cjk"}}


def _mention_match(mention: Mention) -> dict[str, Any]:
    """Any way of writing what the query names, as a phrase (a name, a short name, a stock code), and
    its stock codes among the articles' `tickers` (codes read from quote links the text may not print)."""
    ways = [_phrase(variant) for variant in mention.variants]
    if mention.tickers:
        ways.append({"terms": {"tickers": list(mention.tickers)}})
    return {"bool": {"should": ways, "minimum_should_match": 1}}


def full_text_query(query: AnalyzedQuery, filters: list[dict[str, Any]]) -> dict[str, Any]:
    """The query as typed, or with each thing it names (an alias, an abbreviation, a stock code) written
    in any of its names; the exact phrase ranks higher.

    A query that is nothing but names (`上交所`, `00388`, `深圳证券交易所`) ranks those names, each
    written any way, as phrases first; its bigrams alone (which also find other names that share most
    of them: 深圳证券交易所 and 上海证券交易所 share four of six) only rank below, for the stories that
    write the name apart (美国2年期国债收益率 for 美国国债收益率).
    """
    free_text = not query.mentions or bool(query.rest)
    # What the editor quoted must match exactly: no loose match of the whole query then.
    ways = [] if query.literal else [_text_match(query.text, 1.0 if free_text else NAME_BIGRAMS_BOOST)]
    if query.mentions:
        named = [_mention_match(mention) for mention in query.mentions]
        if query.rest:
            named.append(_text_match(query.rest))
        ways.append({"bool": {"must": named}} if len(named) > 1 else named[0])
    boosts = [_phrase(query.text)] if free_text and not query.literal else []
    return {
        "bool": {
            "must": [{"bool": {"should": ways, "minimum_should_match": 1}}],
            "should": boosts,
            "filter": filters,
        }
    }


def highlight_spec() -> dict[str, Any]:
    return {
        "pre_tags": [HIGHLIGHT_PRE],
        "post_tags": [HIGHLIGHT_POST],
        "fields": {
            "title": {"number_of_fragments": 0},
            "summary": {"number_of_fragments": 0},
            "body_text": {"fragment_size": 120, "number_of_fragments": 3},
        },
    }


def facet_aggs(size: int = FACET_SIZE) -> dict[str, Any]:
    """Terms aggregations of every filterable field, most frequent first (ties by value, for stable output)."""
    return {
        name: {"terms": {"field": field, "size": size, "order": [{"_count": "desc"}, {"_key": "asc"}]}}
        for name, field in FACET_FIELDS.items()
    }


@dataclass(frozen=True)
class PageFacets:
    """The search page's facets: every value of the index (the filter lists) and the most frequent values
    among the matching stories (the links that narrow the results)."""

    everything: Facets
    matching: Facets


def with_recency(query: dict[str, Any], ranking: Ranking) -> dict[str, Any]:
    """`query` with its scores multiplied by 1 + boost x 0.5^(age / half-life) for dated stories."""
    if ranking.recency_boost <= 0 or ranking.recency_half_life_days <= 0:
        return query
    minutes = max(1, round(ranking.recency_half_life_days * 24 * 60))
    return {
        "function_score": {
            "query": query,
            "functions": [
                {"weight": 1},
                {
                    "filter": {"exists": {"field": "published_at"}},
                    "exp": {"published_at": {"origin": "now", "scale": f"{minutes}m", "decay": 0.5}},
                    "weight": ranking.recency_boost,
                },
            ],
            "score_mode": "sum",
            "boost_mode": "multiply",
        }
    }


def search_body(params: SearchParams, ranking: Ranking | None = None, *, with_facets: bool = False) -> dict[str, Any]:
    """The `_search` body for one page of results (and, for the search page, the facets of the whole index).

    Raises InvalidSearch when `from` comes after `to` in the ranking's zone."""
    ranking = ranking or Ranking()
    filters = filter_clauses(params, ranking.zone)
    body: dict[str, Any] = {
        "from": (params.page - 1) * params.size,
        "size": params.size,
        "track_total_hits": True,
    }
    newest_first: list[Any] = [{"published_at": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]
    if params.q:
        body["query"] = with_recency(full_text_query(analyze_query(params.q), filters), ranking)
        body["sort"] = ["_score", *newest_first]
        body["highlight"] = highlight_spec()
    else:
        body["query"] = {"bool": {"filter": filters}} if filters else {"match_all": {}}
        body["sort"] = newest_first
    if not params.story:  # one hit per story; the other matching copies ride along
        body["collapse"] = story_collapse()
        body["aggs"] = {"stories": {"cardinality": {"field": "story_id", "precision_threshold": STORY_COUNT_PRECISION}}}
    if with_facets:  # `global` ignores the query: the dropdowns list every value, not just the matching ones
        body.setdefault("aggs", {}).update(
            {
                "facets": {"global": {}, "aggs": facet_aggs()},
                "matching": {"filter": {"match_all": {}}, "aggs": facet_aggs(MATCHING_FACET_SIZE)},
            }
        )
    return body


def story_collapse() -> dict[str, Any]:
    """Collapse on the story: the best hit of each story, and its other copies earliest published first."""
    return {
        "field": "story_id",
        "inner_hits": {
            "name": "copies",
            "size": COPIES_SHOWN + 1,
            "sort": [{"published_at": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
            "_source": _COPY_FIELDS,
        },
    }


STORY_ARTICLES = 100


def story_body(story_id: str) -> dict[str, Any]:
    """The copies of one story, earliest published first."""
    return {
        "size": STORY_ARTICLES,
        "query": {"bool": {"filter": [{"term": {"story_id": story_id}}]}},
        "sort": [{"published_at": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    }


def read_story(story_id: str, document: Mapping[str, Any] | None, articles: list[Article]) -> StoryArticles | None:
    """The story answer from its story document (None for a story of one article) and its copies."""
    if document is None and not articles:
        return None
    outlets = list(dict.fromkeys(article.outlet for article in articles))
    if document is not None:
        size, first_id = int(document["size"]), str(document["first_seen_id"])
        first_at: datetime | None = datetime.fromisoformat(str(document["first_seen_at"]).replace("Z", "+00:00"))
    else:
        size, first_id, first_at = len(articles), articles[0].id, articles[0].published_at
    return StoryArticles(
        id=story_id, size=size, first_seen_id=first_id, first_seen_at=first_at, outlets=outlets, articles=articles
    )


def facets_body() -> dict[str, Any]:
    return {"size": 0, "aggs": facet_aggs()}


def safe_highlight(fragment: str) -> str:
    """HTML-escape a highlighted fragment, then turn our sentinels (and nothing else) into <mark> tags."""
    escaped = _MARKED.sub(r"<mark>\1</mark>", html.escape(fragment, quote=True))
    return escaped.replace(HIGHLIGHT_PRE, "").replace(HIGHLIGHT_POST, "")


def read_hit(hit: Mapping[str, Any]) -> Hit:
    """One `_search` hit as our model. Raises pydantic.ValidationError if `_source` is not an Article."""
    marked: Mapping[str, list[str]] = hit.get("highlight", {})
    highlights = {name: [safe_highlight(fragment) for fragment in fragments] for name, fragments in marked.items()}
    score = hit.get("_score")
    article = Article.model_validate(hit["_source"])
    return Hit(
        id=str(hit["_id"]),
        score=float(score) if score is not None else None,
        highlights=highlights,
        article=article,
        story=_story_group(hit, article),
    )


def _story_group(hit: Mapping[str, Any], article: Article) -> StoryGroup | None:
    copies = hit.get("inner_hits", {}).get("copies")
    if copies is None or article.story_id is None:
        return None
    others = [c["_source"] for c in copies["hits"]["hits"] if c["_id"] != hit["_id"]][:COPIES_SHOWN]
    return StoryGroup(
        id=article.story_id,
        copies=int(copies["hits"]["total"]["value"]),
        more=[
            Copy(
                id=str(c["id"]),
                title=str(c["title"]),
                outlet=str(c["outlet"]),
                url=c.get("url"),
                published_at=c.get("published_at"),
            )
            for c in others
        ],
    )


def read_search(response: Mapping[str, Any], params: SearchParams) -> SearchResult:
    total = int(response["hits"]["total"]["value"])
    counted = response.get("aggregations", {}).get("stories")
    stories = int(counted["value"]) if counted is not None else None
    reachable = min(total if stories is None else min(stories, total), MAX_RESULT_WINDOW)
    return SearchResult(
        query=params.q,
        total=total,
        stories=stories,
        page=params.page,
        size=params.size,
        pages=math.ceil(reachable / params.size),
        hits=[read_hit(hit) for hit in response["hits"]["hits"]],
    )


def read_page_facets(aggregations: Mapping[str, Any]) -> PageFacets:
    """Both sets of facets of a `search_body(..., with_facets=True)` answer."""
    return PageFacets(everything=read_facets(aggregations["facets"]), matching=read_facets(aggregations["matching"]))


def read_facets(aggregations: Mapping[str, Any]) -> Facets:
    """Facets from the aggregations of `facet_aggs()` (top level, or under the `global` of `search_body`)."""
    if "facets" in aggregations:
        aggregations = aggregations["facets"]
    values = {
        name: [FacetValue(value=str(b["key"]), count=int(b["doc_count"])) for b in aggregations[name]["buckets"]]
        for name in FACET_FIELDS
    }
    return Facets(outlet=values["outlet"], category=values["category"], tag=values["tag"], ticker=values["ticker"])
