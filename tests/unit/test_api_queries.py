"""The read API's pure query building: parameters, Elasticsearch bodies, highlights, answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from pipeline.api import queries
from pipeline.api.queries import HIGHLIGHT_POST as POST
from pipeline.api.queries import HIGHLIGHT_PRE as PRE
from pipeline.api.queries import Bound, SearchParams, parse_bound, safe_highlight, search_body

NEWEST_FIRST = [{"published_at": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}]


@pytest.mark.parametrize(
    ("text", "upper", "expected"),
    [
        ("2024-05-01", False, Bound(datetime(2024, 5, 1, tzinfo=UTC), inclusive=True)),
        ("2024-05-01", True, Bound(datetime(2024, 5, 2, tzinfo=UTC), inclusive=False)),
        ("2024-02-29", True, Bound(datetime(2024, 3, 1, tzinfo=UTC), inclusive=False)),
        ("2023-12-31", True, Bound(datetime(2024, 1, 1, tzinfo=UTC), inclusive=False)),
        ("2024-05-01T08:00:00+08:00", False, Bound(datetime(2024, 5, 1, 0, 0, tzinfo=UTC), inclusive=True)),
        ("2024-05-01T08:00:00+08:00", True, Bound(datetime(2024, 5, 1, 0, 0, tzinfo=UTC), inclusive=True)),
        ("2024-05-01T08:00:00", True, Bound(datetime(2024, 5, 1, 8, 0, tzinfo=UTC), inclusive=True)),
        ("2024-05-01T23:30:00Z", False, Bound(datetime(2024, 5, 1, 23, 30, tzinfo=UTC), inclusive=True)),
        ("2024-05-01T20:00:00-05:00", False, Bound(datetime(2024, 5, 2, 1, 0, tzinfo=UTC), inclusive=True)),
    ],
)
def test_bounds(text: str, upper: bool, expected: Bound) -> None:
    assert parse_bound(text, upper=upper) == expected


@pytest.mark.parametrize(
    ("text", "upper"),
    [
        ("2024-13-01", False),
        ("2024-02-30", False),
        ("yesterday", False),
        ("", False),
        ("2024/05/01", False),
        ("2024-05-01T25:00:00", False),
        ("9999-12-31", True),  # the day after does not exist
        ("0001-01-01T00:30:00+01:00", False),  # before year 1 in UTC
    ],
)
def test_bad_bounds_say_what_is_expected(text: str, upper: bool) -> None:
    with pytest.raises(ValueError, match="is not a date: use YYYY-MM-DD or an ISO 8601 time"):
        parse_bound(text, upper=upper)


def test_bound_value_for_elasticsearch_is_utc_with_milliseconds() -> None:
    bound = parse_bound("2024-05-01T08:00:00.123456+08:00", upper=False)
    assert bound.es_value() == "2024-05-01T00:00:00.123Z"


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"page": 0}, "page\n  Input should be greater than or equal to 1"),
        ({"page": -3}, "Input should be greater than or equal to 1"),
        ({"page": "two"}, "Input should be a valid integer"),
        ({"size": 0}, "size\n  Input should be greater than or equal to 1"),
        ({"size": 1000}, "size\n  Input should be less than or equal to 100"),
        ({"q": "新" * 201}, "q\n  String should have at most 200 characters"),
        ({"outlet": ["x"] * 21}, "outlet\n  List should have at most 20 items"),
        ({"tag": ["y" * 201]}, "String should have at most 200 characters"),
        ({"from": "2024-13-01"}, "'2024-13-01' is not a date"),
        ({"to": "soon"}, "'soon' is not a date"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "`from` (2024-05-02) is after `to` (2024-05-01)"),
        ({"from": "2024-05-01T12:00:00Z", "to": "2024-05-01T11:59:59Z"}, "is after `to`"),
        ({"from": "2024-05-02T00:00:00Z", "to": "2024-05-01"}, "is after `to`"),
        ({"page": 101, "size": 100}, "page 101 of size 100 goes beyond the first 10000 results"),
        ({"page": 1001}, "page 1001 of size 10 goes beyond the first 10000 results"),
    ],
)
def test_invalid_parameters_are_refused_with_a_reason(given: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SearchParams.model_validate(given)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "given",
    [
        {"from": "2024-05-01", "to": "2024-05-01"},  # one whole day
        {"from": "2024-05-01T08:00:00Z", "to": "2024-05-01T08:00:00Z"},  # one instant
        {"from": "2024-05-01T23:59:59Z", "to": "2024-05-01"},
        {"page": 100, "size": 100},  # exactly the last reachable page
        {"page": 1000, "size": 10},
        {"q": "新" * 200},
    ],
)
def test_edge_values_are_accepted(given: dict[str, Any]) -> None:
    SearchParams.model_validate(given)


def test_blanks_are_ignored_and_values_trimmed() -> None:
    params = SearchParams.model_validate(
        {"q": "  跨境电商 ", "outlet": ["", " 证券时报 ", "证券时报"], "tag": ["  "], "from": " ", "to": ""}
    )
    assert (params.q, params.outlet, params.tag, params.from_, params.to) == ("跨境电商", ["证券时报"], [], None, None)


def test_defaults_list_newest_first_everything_one_hit_per_story() -> None:
    body = search_body(SearchParams())
    assert body == {
        "from": 0,
        "size": 10,
        "track_total_hits": True,
        "query": {"match_all": {}},
        "sort": NEWEST_FIRST,
        "collapse": queries.story_collapse(),
        "aggs": {"stories": {"cardinality": {"field": "story_id", "precision_threshold": 40_000}}},
    }
    assert body["collapse"]["field"] == "story_id"
    assert body["collapse"]["inner_hits"]["sort"][0] == {"published_at": {"order": "asc", "missing": "_last"}}


def test_one_story_lists_its_copies_without_folding_them() -> None:
    body = search_body(SearchParams(story="s1", q="港交所"))
    assert "collapse" not in body and "aggs" not in body
    assert body["query"]["function_score"]["query"]["bool"]["filter"] == [{"term": {"story_id": "s1"}}]
    assert ("story", "s1") in SearchParams(story="s1").query_items()


def _relevance(body: dict[str, Any]) -> dict[str, Any]:
    """The relevance query inside the recency wrapper."""
    query: dict[str, Any] = body["query"]["function_score"]["query"]
    return query


def test_full_text_uses_cjk_over_title_summary_and_body_with_highlights() -> None:
    body = search_body(SearchParams(q="跨境电商综试区"))
    (must,) = (way["multi_match"] for way in _relevance(body)["bool"]["must"][0]["bool"]["should"])
    assert must["query"] == "跨境电商综试区"
    assert must["analyzer"] == "cjk"
    assert [field.split("^")[0] for field in must["fields"]] == ["title", "summary", "body_text"]
    phrase = _relevance(body)["bool"]["should"][0]["multi_match"]
    assert (phrase["type"], phrase["query"]) == ("phrase", "跨境电商综试区")
    assert body["sort"] == ["_score", *NEWEST_FIRST]
    assert body["highlight"]["pre_tags"] == [PRE] and body["highlight"]["post_tags"] == [POST]
    assert set(body["highlight"]["fields"]) == {"title", "summary", "body_text"}
    assert _relevance(body)["bool"]["filter"] == []


def test_filters_and_dates_become_terms_and_a_utc_range() -> None:
    params = SearchParams.model_validate(
        {
            "outlet": ["证券时报", "Harbour City Wire"],
            "category": ["business"],
            "tag": ["基金", "wire"],
            "from": "2024-05-01",
            "to": "2024-05-31",
        }
    )
    assert search_body(params)["query"] == {
        "bool": {
            "filter": [
                {"terms": {"outlet": ["证券时报", "Harbour City Wire"]}},
                {"terms": {"category": ["business"]}},
                {"term": {"tags": "基金"}},
                {"term": {"tags": "wire"}},
                {"range": {"published_at": {"gte": "2024-05-01T00:00:00.000Z", "lt": "2024-06-01T00:00:00.000Z"}}},
            ]
        }
    }


def test_a_time_bound_is_inclusive_and_converted_to_utc() -> None:
    params = SearchParams.model_validate({"to": "2024-05-01T08:00:00+08:00"})
    assert queries.filter_clauses(params) == [{"range": {"published_at": {"lte": "2024-05-01T00:00:00.000Z"}}}]


def test_filters_apply_to_full_text_too() -> None:
    body = search_body(SearchParams.model_validate({"q": "rates", "category": ["business"]}))
    assert _relevance(body)["bool"]["filter"] == [{"terms": {"category": ["business"]}}]


@pytest.mark.parametrize(("page", "size", "offset"), [(1, 10, 0), (2, 10, 10), (3, 20, 40), (100, 100, 9900)])
def test_pages_become_offsets(page: int, size: int, offset: int) -> None:
    body = search_body(SearchParams(page=page, size=size))
    assert (body["from"], body["size"]) == (offset, size)


def test_facets_are_global_terms_of_outlet_category_tags_and_tickers() -> None:
    aggs = search_body(SearchParams(q="x"), with_facets=True)["aggs"]
    assert list(aggs) == ["stories", "facets", "matching"] and aggs["facets"]["global"] == {}
    matching = aggs["matching"]  # in the query's scope: the values among the matching stories, for the links
    assert matching["filter"] == {"match_all": {}}
    assert {agg["terms"]["size"] for agg in matching["aggs"].values()} == {queries.MATCHING_FACET_SIZE}
    assert {name: agg["terms"]["field"] for name, agg in aggs["facets"]["aggs"].items()} == {
        "outlet": "outlet",
        "category": "category",
        "tag": "tags",
        "ticker": "tickers",
    }
    assert queries.facets_body()["size"] == 0


@pytest.mark.parametrize(
    ("fragment", "safe"),
    [
        (f"广东8个{PRE}跨境电商综试区{POST}方案", "广东8个<mark>跨境电商综试区</mark>方案"),
        (f"{PRE}a{POST} and {PRE}b{POST}", "<mark>a</mark> and <mark>b</mark>"),
        (f"<script>alert(1)</script>{PRE}x{POST}", "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>"),
        (f"{PRE}<b>{POST}", "<mark>&lt;b&gt;</mark>"),
        ("<mark>fake</mark>", "&lt;mark&gt;fake&lt;/mark&gt;"),
        ("\"quoted\" & 'single'", "&quot;quoted&quot; &amp; &#x27;single&#x27;"),
        (f"{PRE}unclosed", "unclosed"),
        (f"stray{POST} end", "stray end"),
        (f"line one\n{PRE}two{POST}", "line one\n<mark>two</mark>"),
    ],
)
def test_highlights_are_escaped_and_only_our_marks_survive(fragment: str, safe: str) -> None:
    assert safe_highlight(fragment) == safe


def _source(article_id: str, title: str) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "id": article_id,
        "url": None,
        "title": title,
        "summary": "摘要",
        "body_text": "正文",
        "published_at": "2024-05-01T00:00:00Z",
        "language": "zh",
        "outlet": "证券时报",
        "category": "zhengquanshibao",
        "tags": ["基金"],
        "keywords": ["基金"],
        "char_count": 2,
        "content_hash": "h",
        "source_id": "s",
        "source_type": "feed",
        "fetched_at": "2024-05-01T00:00:00Z",
        "normalized_at": "2024-05-01T00:00:00Z",
        "version": 1,
        "pipeline_version": "test",
    }


def test_an_answer_becomes_hits_with_safe_highlights_and_a_page_count() -> None:
    response = {
        "hits": {
            "total": {"value": 25, "relation": "eq"},
            "hits": [
                {
                    "_id": "a",
                    "_score": 3.5,
                    "_source": _source("a", "基金"),
                    "highlight": {"title": [f"{PRE}基金{POST}"]},
                },
                {"_id": "b", "_score": None, "_source": _source("b", "<i>b</i>")},
            ],
        }
    }
    result = queries.read_search(response, SearchParams(q="基金"))
    assert (result.query, result.total, result.page, result.size, result.pages) == ("基金", 25, 1, 10, 3)
    assert [(h.id, h.score, h.highlights) for h in result.hits] == [
        ("a", 3.5, {"title": ["<mark>基金</mark>"]}),
        ("b", None, {}),
    ]
    assert result.hits[1].article.title == "<i>b</i>"  # the document stays as it is; pages escape it


@pytest.mark.parametrize(("total", "size", "pages"), [(0, 10, 0), (10, 10, 1), (11, 10, 2), (50_000, 100, 100)])
def test_page_count_stops_at_the_reachable_window(total: int, size: int, pages: int) -> None:
    response = {"hits": {"total": {"value": total, "relation": "eq"}, "hits": []}}
    assert queries.read_search(response, SearchParams(size=size)).pages == pages


def test_a_document_that_is_not_an_article_is_an_error() -> None:
    broken = {k: v for k, v in _source("x", "t").items() if k != "title"}
    response = {"hits": {"total": {"value": 1, "relation": "eq"}, "hits": [{"_id": "x", "_source": broken}]}}
    with pytest.raises(ValidationError, match="title"):
        queries.read_search(response, SearchParams())


def test_facets_are_read_at_top_level_or_under_global() -> None:
    aggs = {
        "outlet": {"buckets": [{"key": "证券时报", "doc_count": 2}]},
        "category": {"buckets": []},
        "tag": {"buckets": [{"key": "基金", "doc_count": 1}, {"key": "wire", "doc_count": 1}]},
        "ticker": {"buckets": [{"key": "0388.HK", "doc_count": 2}]},
    }
    top = queries.read_facets(aggs)
    assert [(v.value, v.count) for v in top.outlet] == [("证券时报", 2)]
    assert [(v.value, v.count) for v in top.ticker] == [("0388.HK", 2)]
    assert [v.value for v in top.tag] == ["基金", "wire"] and top.category == []
    assert queries.read_facets({"facets": {"doc_count": 3, **aggs}}) == top


def test_query_items_round_trip_and_leave_defaults_out() -> None:
    given = {"q": "跨境电商", "outlet": ["a", "b"], "tag": ["t"], "from": "2024-01-01", "page": "3", "size": "20"}
    params = SearchParams.model_validate(given)
    items = params.query_items()
    assert items == [
        ("q", "跨境电商"),
        ("outlet", "a"),
        ("outlet", "b"),
        ("tag", "t"),
        ("from", "2024-01-01"),
        ("page", "3"),
        ("size", "20"),
    ]
    assert ("page", "4") in params.query_items(page=4)
    assert SearchParams().query_items() == []
    regrouped: dict[str, Any] = {}
    for key, value in items:
        regrouped.setdefault(key, []).append(value)
    flat = {k: (v if k in ("outlet", "category", "tag") else v[0]) for k, v in regrouped.items()}
    assert SearchParams.model_validate(flat) == params


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        (["00388"], ["0388.HK"]),
        (["0388.HK", "00388.HK", "388.hk"], ["0388.HK"]),
        (["600519", "600519.SH", "sh600519"], ["600519.SH"]),
        (["000001", "NIO.N"], ["000001.SZ", "NIO.US"]),
    ],
)
def test_tickers_are_read_in_any_common_form(typed: list[str], normal: list[str]) -> None:
    params = SearchParams.model_validate({"ticker": typed})
    assert params.ticker == normal
    assert {"terms": {"tickers": normal}} in queries.filter_clauses(params)
    assert [value for name, value in params.query_items() if name == "ticker"] == normal


@pytest.mark.parametrize("typed", ["2021", "hello", "600519.HK", "388"])
def test_a_value_that_is_not_a_ticker_is_refused_with_the_forms_that_work(typed: str) -> None:
    with pytest.raises(ValidationError, match="is not a stock code: use a form such as 600519"):
        SearchParams.model_validate({"ticker": [typed]})


def test_what_the_query_names_is_searched_in_every_way_of_writing_it() -> None:
    """`郑商所纯碱`: the query as typed, or (郑商所 or 郑州商品交易所 ... as a phrase) and 纯碱."""
    ways = _relevance(search_body(SearchParams(q="郑商所纯碱")))["bool"]["must"][0]["bool"]
    assert ways["minimum_should_match"] == 1
    typed, named = ways["should"]
    assert typed["multi_match"]["query"] == "郑商所纯碱"
    mention, rest = named["bool"]["must"]
    phrases = [clause["multi_match"] for clause in mention["bool"]["should"]]
    assert {phrase["type"] for phrase in phrases} == {"phrase"}
    assert {"郑商所", "郑州商品交易所"} <= {phrase["query"] for phrase in phrases}
    assert rest["multi_match"]["query"] == "纯碱"


def test_a_query_of_names_only_ranks_their_phrases_first() -> None:
    """`深圳证券交易所`: its loose bigrams (shared with 上海证券交易所) only rank far below the names."""
    relevance = _relevance(search_body(SearchParams(q="深圳证券交易所")))
    loose, names = relevance["bool"]["must"][0]["bool"]["should"]
    assert loose["multi_match"]["boost"] == queries.NAME_BIGRAMS_BOOST < 0.1
    assert {"深交所", "深圳证券交易所"} <= {clause["multi_match"]["query"] for clause in names["bool"]["should"]}
    assert relevance["bool"]["should"] == []  # no extra weight for the form as typed


def test_recency_multiplies_relevance_by_one_plus_a_decaying_boost() -> None:
    ranking = queries.Ranking(recency_half_life_days=1.5, recency_boost=0.3)
    score = search_body(SearchParams(q="港交所"), ranking)["query"]["function_score"]
    constant, decay = score["functions"]
    assert constant == {"weight": 1} and (score["score_mode"], score["boost_mode"]) == ("sum", "multiply")
    assert decay["filter"] == {"exists": {"field": "published_at"}} and decay["weight"] == 0.3
    assert decay["exp"] == {"published_at": {"origin": "now", "scale": "2160m", "decay": 0.5}}


@pytest.mark.parametrize("ranking", [queries.Ranking(recency_boost=0), queries.Ranking(recency_half_life_days=0)])
def test_recency_can_be_switched_off(ranking: queries.Ranking) -> None:
    body = search_body(SearchParams(q="港交所"), ranking)
    assert "function_score" not in body["query"] and "bool" in body["query"]


def test_listing_newest_first_has_no_recency_wrapper() -> None:
    assert search_body(SearchParams(), queries.Ranking(recency_boost=1))["query"] == {"match_all": {}}


BEIJING = ZoneInfo("Asia/Shanghai")


def test_a_day_is_a_day_in_the_newsroom_zone() -> None:
    """An editor in Beijing asking for 2022-05-05 gets 00:00 to 24:00 Beijing time (16:00 UTC the day before on)."""
    params = SearchParams.model_validate({"from": "2022-05-05", "to": "2022-05-05"})
    assert queries.filter_clauses(params, BEIJING) == [
        {"range": {"published_at": {"gte": "2022-05-04T16:00:00.000Z", "lt": "2022-05-05T16:00:00.000Z"}}}
    ]
    assert parse_bound("2022-05-05T10:39", upper=False, zone=BEIJING) == Bound(
        datetime(2022, 5, 5, 2, 39, tzinfo=UTC), inclusive=True
    )
    assert parse_bound("2022-05-05T10:39+00:00", upper=False, zone=BEIJING).at == datetime(
        2022, 5, 5, 10, 39, tzinfo=UTC
    )


def test_from_after_to_in_the_newsroom_zone_is_refused() -> None:
    """20:00 UTC on 05-05 is already 05-06 in Beijing: after the Beijing day 05-05 ends, not the UTC one."""
    params = SearchParams.model_validate({"from": "2022-05-05T20:00:00Z", "to": "2022-05-05"})
    assert queries.filter_clauses(params, UTC)
    with pytest.raises(queries.InvalidSearch, match=r"`from` \(2022-05-05T20:00:00Z\) is after `to` \(2022-05-05\)"):
        search_body(params, queries.Ranking(zone=BEIJING))


def test_a_quoted_query_is_matched_exactly() -> None:
    """`"港交所"`: only that phrase (no other names, no loose bigrams, no boost for the typed form)."""
    relevance = _relevance(search_body(SearchParams(q='"港交所"')))
    (way,) = relevance["bool"]["must"][0]["bool"]["should"]
    (phrase,) = way["bool"]["should"]
    assert (phrase["multi_match"]["type"], phrase["multi_match"]["query"]) == ("phrase", "港交所")
    assert relevance["bool"]["should"] == []


def test_a_stock_code_is_also_looked_up_in_the_tickers_field() -> None:
    """`00388`: its printed forms and the company's names as phrases, or the code among `tickers`."""
    relevance = _relevance(search_body(SearchParams(q="00388")))
    _, names = relevance["bool"]["must"][0]["bool"]["should"]
    clauses = names["bool"]["should"]
    assert {"terms": {"tickers": ["0388.HK"]}} in clauses
    assert {"00388", "0388", "港交所"} <= {c["multi_match"]["query"] for c in clauses if "multi_match" in c}


def test_collapsed_hits_carry_their_storys_other_copies_and_pages_count_stories() -> None:
    copy = {"id": "c", "title": "转载", "outlet": "证券时报", "url": None, "published_at": "2024-05-01T00:00:00Z"}
    hit = {
        "_id": "a",
        "_score": 2.0,
        "_source": {**_source("a", "基金"), "story_id": "s1"},
        "inner_hits": {
            "copies": {
                "hits": {
                    "total": {"value": 3, "relation": "eq"},
                    "hits": [{"_id": "a", "_source": {"id": "a"}}, {"_id": "c", "_source": copy}],
                }
            }
        },
    }
    response = {
        "hits": {"total": {"value": 23, "relation": "eq"}, "hits": [hit]},
        "aggregations": {"stories": {"value": 12}},
    }
    result = queries.read_search(response, SearchParams(q="基金"))
    assert (result.total, result.stories, result.pages) == (23, 12, 2)
    (found,) = result.hits
    assert found.story is not None and (found.story.id, found.story.copies) == ("s1", 3)
    assert [(c.id, c.outlet) for c in found.story.more] == [("c", "证券时报")]


def test_a_story_answer_from_its_document_or_its_copies() -> None:
    first = queries.Article.model_validate({**_source("a", "t"), "story_id": "s"})
    assert queries.read_story("s", None, []) is None
    alone = queries.read_story("s", None, [first])
    assert alone is not None and (alone.size, alone.first_seen_id, alone.outlets) == (1, "a", ["证券时报"])
    document = {"size": 4, "first_seen_id": "z", "first_seen_at": "2024-04-30T00:00:00.000Z"}
    known = queries.read_story("s", document, [first])
    assert known is not None and (known.size, known.first_seen_id) == (4, "z")
    assert queries.story_body("s")["query"] == {"bool": {"filter": [{"term": {"story_id": "s"}}]}}
