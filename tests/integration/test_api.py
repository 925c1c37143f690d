"""The read API and search page against the real Elasticsearch of the local stack.

Each test indexes the same handful of Articles (Chinese and English, one hostile, one undated) into
its own alias, then drives the FastAPI app in-process with TestClient; one test runs the real
server (`newsflow serve`) in a subprocess and talks to it over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from pipeline import search
from pipeline.api.app import create_app
from pipeline.config import Settings
from schemas.models import Article
from tests.conftest import REPO
from tests.support.articles import make_article

with warnings.catch_warnings():  # starlette suggests its httpx fork; the TestClient works as it is
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.services

HOSTILE_TITLE = "<script>alert(1)</script> Breaking"
CONTRACT = REPO / "docs" / "index-contract.md"


def _article(
    article_id: str,
    title: str,
    body: str,
    *,
    published: datetime | None,
    outlet: str,
    category: str,
    tags: list[str],
    language: str,
    url: str | None = None,
    tickers: list[str] | None = None,
) -> Article:
    return make_article(
        article_id,
        title=title,
        body=body,
        when=datetime(2024, 8, 1, tzinfo=UTC),
        url=url if url is not None else f"https://news.example/{article_id}",
        published_at=published,
        language=language,
        outlet=outlet,
        category=category,
        tags=tags,
        keywords=tags[-1:],
        tickers=tickers or [],
    )


ARTICLES = [
    _article(
        "zh-title",
        "广东8个跨境电商综试区方案同日出炉",
        "近日，广东8个跨境电商综试区实施方案同日出炉。\n至此广东实现跨境电商综试区全覆盖，各地突出产业特色。",
        published=datetime(2022, 5, 5, 13, 38, tzinfo=UTC),
        outlet="21世纪经济报道",
        category="21shijijingjibaodao",
        tags=["21世纪经济报道新闻", "跨境电商"],
        language="zh",
    ),
    _article(
        "zh-body",
        "广州外贸新政出台",
        "广州发布稳外贸措施。\n文件提到，将继续推进跨境电商综试区建设，并支持海外仓发展。",
        published=datetime(2024, 7, 1, 2, 0, tzinfo=UTC),
        outlet="证券时报",
        category="zhengquanshibao",
        tags=["证券时报新闻", "外贸"],
        language="zh",
    ),
    _article(
        "zh-other",
        "科创板开市五周年：研发投入持续增长",
        "科创板开市五年来，上市公司研发投入持续增长。\n多家公司表示将加大投入。",
        published=datetime(2024, 7, 22, 0, 30, tzinfo=UTC),
        outlet="证券时报",
        category="zhengquanshibao",
        tags=["证券时报新闻", "科创板"],
        language="zh",
        tickers=["688981.SH", "0981.HK"],
    ),
    _article(
        "en-trade",
        "Cross-border e-commerce zones expand in Guangdong",
        "Guangdong now has cross-border e-commerce pilot zones in every city.\nExporters welcomed the plans.",
        published=datetime(2024, 3, 1, 9, 0, tzinfo=UTC),
        outlet="Harbour City Wire",
        category="business",
        tags=["wire", "trade"],
        language="en",
    ),
    _article(
        "en-rates",
        "Central bank holds rates steady",
        "The central bank kept its benchmark rates unchanged on Monday.\nAnalysts expect a cut later.",
        published=datetime(2024, 6, 10, 9, 0, tzinfo=UTC),
        outlet="Harbour City Wire",
        category="business",
        tags=["wire", "economy"],
        language="en",
    ),
    _article(
        "evil",
        HOSTILE_TITLE,
        "Ordinary body text & more.",
        published=datetime(2023, 1, 1, tzinfo=UTC),
        outlet="Evil <b>Outlet</b>",
        category="misc",
        tags=['"><img src=x onerror=alert(1)>'],
        language="en",
        url="javascript:alert(1)",
    ),
    _article(
        "undated",
        "Undated note on shipping",
        "Shipping volumes rose.",
        published=None,
        outlet="Harbour City Wire",
        category="business",
        tags=["wire", "shipping"],
        language="en",
    ),
]
ARTICLES = [a.model_copy(update={"story_id": a.id}) for a in ARTICLES]  # as indexed: every article has a story
BY_ID = {a.id: a for a in ARTICLES}
NEWEST_FIRST = [
    a.id for a in sorted((a for a in ARTICLES if a.published_at), key=lambda a: a.published_at or 0, reverse=True)
] + [a.id for a in ARTICLES if a.published_at is None]


@pytest.fixture
def indexed(isolated: Settings) -> Iterator[Settings]:
    """The isolated alias with ARTICLES in it; the index and its template are removed afterwards."""
    es = search.client(isolated)
    index = search.ensure_index(es, isolated)
    try:
        written = search.bulk_index(es, ARTICLES, isolated.index_alias)
        assert (written.ok, written.dead) == (len(ARTICLES), [])
        es.indices.refresh(index=isolated.index_alias)
        yield isolated
    finally:
        es.indices.delete(index=index, ignore_unavailable=True)
        es.indices.delete_index_template(name=f"{isolated.index_alias}-template")
        es.close()


@pytest.fixture
def api(indexed: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(indexed)) as client:
        yield client


def _ids(client: TestClient, query: str) -> list[str]:
    response = client.get("/search?" + query)
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["hits"]]


def _marked(fragment: str) -> str:
    return "".join(re.findall(r"<mark>(.*?)</mark>", fragment))


def test_chinese_full_text_ranks_the_title_match_first_with_highlights(api: TestClient) -> None:
    body = api.get("/search", params={"q": "跨境电商综试区"}).json()
    assert [hit["id"] for hit in body["hits"]] == ["zh-title", "zh-body"]
    assert body["total"] == 2 and body["query"] == "跨境电商综试区"
    top = body["hits"][0]
    assert top["score"] > body["hits"][1]["score"]
    title = top["highlights"]["title"][0]
    assert re.sub(r"</?mark>", "", title) == BY_ID["zh-title"].title
    assert set("跨境电商综试区") <= set(_marked(title))
    snippet = " ".join(body["hits"][1]["highlights"]["body_text"])
    assert "跨境电商综试区" in _marked(snippet) or set("跨境电商综试区") <= set(_marked(snippet))
    assert top["article"] == BY_ID["zh-title"].model_dump(mode="json")


def test_english_full_text(api: TestClient) -> None:
    assert _ids(api, "q=e-commerce+Guangdong")[0] == "en-trade"
    assert _ids(api, "q=rates") == ["en-rates"]
    hit = api.get("/search", params={"q": "rates"}).json()["hits"][0]
    assert "<mark>rates</mark>" in hit["highlights"]["title"][0]


def test_filters(api: TestClient) -> None:
    cases = {
        "outlet=证券时报": {"zh-body", "zh-other"},
        "outlet=证券时报&outlet=Harbour+City+Wire": {"zh-body", "zh-other", "en-trade", "en-rates", "undated"},
        "category=business": {"en-trade", "en-rates", "undated"},
        "category=21shijijingjibaodao": {"zh-title"},
        "tag=wire": {"en-trade", "en-rates", "undated"},
        "tag=wire&tag=trade": {"en-trade"},  # every tag must be present
        "tag=科创板": {"zh-other"},
        "outlet=Evil+%3Cb%3EOutlet%3C%2Fb%3E": {"evil"},
        "outlet=证券时报&q=跨境电商综试区": {"zh-body"},
        "outlet=nobody": set(),
    }
    for query, expected in cases.items():
        assert set(_ids(api, query)) == expected, query


def test_date_ranges(api: TestClient) -> None:
    cases = {
        "from=2024-01-01&to=2024-06-30": {"en-trade", "en-rates"},
        "to=2024-06-10&from=2024-06-10": {"en-rates"},  # a date is a whole day of the newsroom (Asia/Shanghai)
        "to=2024-06-09&from=2024-06-01": set(),
        "from=2024-06-10T17:00:00%2B08:00&to=2024-06-30": {"en-rates"},  # 09:00 UTC, inclusive
        "from=2024-06-10T17:00:01%2B08:00&to=2024-06-30": set(),
        "from=2024-07-01": {"zh-body", "zh-other"},
        "to=2022-12-31": {"zh-title"},
        "to=2024-07-01T01:59:59Z&from=2024-06-30": set(),
        "to=2024-07-01T02:00:00Z&from=2024-06-30": {"zh-body"},
    }
    for query, expected in cases.items():
        assert set(_ids(api, query)) == expected, query


def test_newest_first_and_pages(api: TestClient) -> None:
    everything = api.get("/search").json()
    assert [hit["id"] for hit in everything["hits"]] == NEWEST_FIRST
    assert all(hit["score"] is None for hit in everything["hits"])
    pages = [api.get("/search", params={"size": 3, "page": n}).json() for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [len(ARTICLES)] * 4
    assert [p["pages"] for p in pages] == [3] * 4
    assert [len(p["hits"]) for p in pages] == [3, 3, 1, 0]
    assert [hit["id"] for p in pages for hit in p["hits"]] == NEWEST_FIRST


def test_article_by_id_and_missing(api: TestClient, indexed: Settings) -> None:
    found = api.get("/articles/zh-other")
    assert found.status_code == 200
    assert Article.model_validate(found.json()) == BY_ID["zh-other"]
    missing = api.get("/articles/no-such-id")
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"no article with id 'no-such-id' in '{indexed.index_alias}'"}


def test_health_and_facets(api: TestClient, indexed: Settings) -> None:
    health = api.get("/healthz")
    assert health.status_code == 200
    assert health.json() | {"elasticsearch": "?"} == {
        "status": "ok",
        "elasticsearch": "?",
        "alias": indexed.index_alias,
        "indices": [indexed.index_name],
        "documents": len(ARTICLES),
    }
    assert health.json()["elasticsearch"].startswith("8.")
    facets = api.get("/facets").json()
    assert {v["value"]: v["count"] for v in facets["outlet"]} == Counter(a.outlet for a in ARTICLES)
    assert {v["value"]: v["count"] for v in facets["tag"]} == Counter(t for a in ARTICLES for t in a.tags)
    counts = [v["count"] for v in facets["category"]]
    assert counts == sorted(counts, reverse=True)


BAD_REQUESTS = {
    "/search?page=0": "page: Input should be greater than or equal to 1",
    "/search?page=abc": "page: Input should be a valid integer",
    "/search?size=1000": "size: Input should be less than or equal to 100",
    "/search?size=0": "size: Input should be greater than or equal to 1",
    "/search?from=2024-05-02&to=2024-05-01": "`from` (2024-05-02) is after `to` (2024-05-01)",
    "/search?from=2024-13-01": "from: '2024-13-01' is not a date: use YYYY-MM-DD or an ISO 8601 time",
    "/search?to=last+week": "to: 'last week' is not a date",
    "/search?q=" + "长" * 201: "q: String should have at most 200 characters",
    "/search?page=200&size=100": "goes beyond the first 10000 results",
    "/articles/" + "x" * 257: "article_id: String should have at most 256 characters",
}


def test_bad_requests_are_422_with_a_clear_message(api: TestClient) -> None:
    for url, message in BAD_REQUESTS.items():
        response = api.get(url)
        assert response.status_code == 422, url
        detail = response.json()["detail"]
        assert detail.startswith("invalid request: ") and message in detail, (url, detail)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_missing_alias_or_elasticsearch_down_is_503(isolated: Settings) -> None:
    down = isolated.model_copy(update={"es_url": f"http://127.0.0.1:{_closed_port()}"})
    for settings, reason in ((isolated, "does not exist yet"), (down, "is unreachable")):
        with TestClient(create_app(settings)) as client:
            for url in ("/healthz", "/search?q=跨境电商", "/search", "/articles/zh-title", "/facets"):
                response = client.get(url)
                assert response.status_code == 503, (url, response.text)
                assert reason in response.json()["detail"], url
            page = client.get("/")
            assert page.status_code == 503 and "Search is unavailable" in page.text and reason in page.text


def test_search_page_renders_chinese_with_highlights(api: TestClient) -> None:
    response = api.get("/", params={"q": "跨境电商综试区"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none' covers scripts
    html = response.text
    assert '<meta charset="utf-8">' in html and "<html lang=" in html
    assert '<li class="hit" lang="zh">' in html
    assert "<mark>" in html and "方案同日出炉" in html
    assert 'value="跨境电商综试区"' in html
    assert "1–2 of 2 articles, most relevant first" in html


def test_search_page_escapes_hostile_documents_and_shows_filters(api: TestClient) -> None:
    html = api.get("/").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Breaking" in html
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert '<a href="/articles/evil">&lt;script&gt;' in html
    for name in ("outlet", "category", "tag"):
        assert f'<select name="{name}">' in html
    assert '<option value="证券时报">证券时报 (2)</option>' in html
    assert '<option value="Evil &lt;b&gt;Outlet&lt;/b&gt;">Evil &lt;b&gt;Outlet&lt;/b&gt; (1)</option>' in html
    assert '<input type="date" name="from"' in html and '<input type="date" name="to"' in html


def test_search_page_filters_pages_and_refuses_bad_input(api: TestClient) -> None:
    filtered = api.get("/", params={"outlet": "证券时报", "size": 1}).text
    assert '<option value="证券时报" selected>' in filtered
    assert "1–1 of 2 articles, newest first" in filtered and "科创板开市五周年" in filtered
    assert re.search(r'href="/\?outlet=[^"]*&amp;page=2&amp;size=1" rel="next"', filtered)
    second = api.get("/", params={"outlet": "证券时报", "size": 1, "page": 2}).text
    assert "广州外贸新政出台" in second and 'rel="prev"' in second and 'rel="next"' not in second
    bad = api.get("/", params={"page": 0, "q": "<b>"})
    assert bad.status_code == 422
    assert "Invalid search: page: Input should be greater than or equal to 1" in bad.text
    assert 'value="&lt;b&gt;"' in bad.text


def test_openapi_docs(api: TestClient) -> None:
    assert api.get("/docs").status_code == 200
    schema = api.get("/openapi.json").json()
    assert {"/search", "/articles/{article_id}", "/stories/{story_id}", "/facets", "/healthz"} <= set(schema["paths"])
    parameters = {p["name"] for p in schema["paths"]["/search"]["get"]["parameters"]}
    assert parameters == {"q", "outlet", "category", "tag", "ticker", "from", "to", "story", "page", "size"}


def _examples(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", CONTRACT.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_contract_examples_find_the_articles(api: TestClient, indexed: Settings) -> None:
    bodies = [json.loads(block) for block in _examples("json") if '"actions"' not in block]
    urls = [word for block in _examples("text") for word in block.split() if word.startswith("http://127.0.0.1:8000/")]
    assert len(bodies) >= 5 and len(urls) >= 6
    es = search.client(indexed)
    for body in bodies:
        answer = es.search(index=indexed.index_alias, body=body)
        if body.get("size") == 0:
            assert all(agg["buckets"] for agg in answer["aggregations"].values()), body
        else:
            assert answer["hits"]["hits"], body
    for url in urls:
        response = api.get(url.removeprefix("http://127.0.0.1:8000"))
        assert response.status_code == 200, url
        if "/search" in url:
            assert response.json()["total"] >= 1, url


def test_the_documented_alias_swap_moves_readers_at_once(api: TestClient, indexed: Settings) -> None:
    es = search.client(indexed)
    v2 = search.ensure_index(es, indexed, version=2, point_alias=False)
    try:
        assert api.get("/healthz").json()["indices"] == [indexed.index_name]  # building v2 changes nothing
        newer = [a.model_copy(update={"title": f"{a.title} (v2)", "version": 2}) for a in ARTICLES[:3]]
        assert search.bulk_index(es, newer, v2).ok == 3
        es.indices.refresh(index=v2)
        assert api.get("/search").json()["total"] == len(ARTICLES)
        (swap,) = [block for block in _examples("json") if '"actions"' in block]
        es.indices.update_aliases(body=json.loads(swap.replace("news-articles", indexed.index_alias)))
        assert api.get("/healthz").json()["indices"] == [v2]
        after = api.get("/search").json()
        assert after["total"] == 3 and all(hit["article"]["title"].endswith("(v2)") for hit in after["hits"])
    finally:
        es.indices.delete(index=v2)


def test_the_real_server_answers_over_http(indexed: Settings) -> None:
    port = _closed_port()
    env = {**os.environ, **indexed.as_env()}
    command = [sys.executable, "-m", "pipeline.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        health: httpx.Response | None = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None, f"server did not answer within 30 s (exit code {server.poll()})"
        assert health.status_code == 200 and health.json()["documents"] == len(ARTICLES)
        home = httpx.get(f"{base}/", params={"q": "科创板"}, timeout=10)
        assert home.status_code == 200 and home.headers["content-type"] == "text/html; charset=utf-8"
        assert "<mark>科创板</mark>开市五周年" in home.text
    finally:
        server.terminate()
        try:
            output, _ = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            output, _ = server.communicate()
    log = output.decode(errors="replace")
    assert f"starting the read API on http://127.0.0.1:{port}/" in log
    assert "Application shutdown complete" in log  # SIGTERM stops it gracefully (uvicorn then re-raises the signal)
    assert server.returncode in (0, -signal.SIGTERM), log
