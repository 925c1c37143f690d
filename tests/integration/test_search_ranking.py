"""The newsroom's time zone and the news ranking of the read API, against the real Elasticsearch.

- `from`/`to` dates are days in NEWSFLOW_TIMEZONE: an editor in Beijing asking for 2022-05-05 gets
  everything published from 00:00 to 24:00 Beijing time, including the story of 10:39 (02:39 UTC);
  the page and `newsflow search` show that story at 10:39 +08:00, the API keeps ISO 8601 times.
- At equal relevance a newer story ranks first; a title match ranks above a body mention, even an
  older one above a newer one; recency is settable and can be switched off.
- A name is found under its other names (工行 finds 中国工商银行 and 1398.HK) unless the editor quotes it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.api.app import create_app
from pipeline.config import Settings
from schemas.models import Article
from tests.conftest import REPO
from tests.support.articles import make_article
from tests.support.stacks import index_articles

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.services

NOW = datetime.now(UTC).replace(microsecond=0)


def _story(article_id: str, title: str, body: str, published: datetime) -> Article:
    return make_article(article_id, title=title, body=body, when=published, published_at=published)


DAY_STORIES = [  # around the Beijing day 2022-05-05 (UTC+8)
    _story("before", "跨境电商前一日", "广东跨境电商。", datetime(2022, 5, 4, 15, 59, tzinfo=UTC)),  # 05-04 23:59
    _story("early", "跨境电商凌晨", "广东跨境电商。", datetime(2022, 5, 4, 16, 30, tzinfo=UTC)),  # 05-05 00:30
    _story("morning", "跨境电商上午", "广东跨境电商。", datetime(2022, 5, 5, 2, 39, tzinfo=UTC)),  # 05-05 10:39
    _story("late", "跨境电商深夜", "广东跨境电商。", datetime(2022, 5, 5, 15, 59, tzinfo=UTC)),  # 05-05 23:59
    _story("after", "跨境电商次日", "广东跨境电商。", datetime(2022, 5, 5, 16, 0, tzinfo=UTC)),  # 05-06 00:00
]
RANKED_STORIES = [
    # The same story twice, a week apart: equal relevance, so the newer first.
    _story(
        "same-old", "央行宣布降准0.5个百分点", "中国人民银行决定下调金融机构存款准备金率。", NOW - timedelta(days=8)
    ),
    _story(
        "same-new", "央行宣布降准0.5个百分点", "中国人民银行决定下调金融机构存款准备金率。", NOW - timedelta(days=1)
    ),
    # About it (title), a month old, against a newer story that only mentions it in its body.
    _story("title-old", "港交所公布季度业绩", "香港交易所公布季度业绩，收入增长。", NOW - timedelta(days=30)),
    _story(
        "body-new",
        "恒指午盘小幅收涨",
        "恒生指数午盘上涨。科技股走强，银行股走弱，市场成交平稳，另有消息称港交所将推出新产品。",
        NOW - timedelta(hours=2),
    ),
]


NAMED_STORIES = [
    _story("short-name", "工行发布年报", "工行今日发布年度报告。", datetime(2021, 3, 1, tzinfo=UTC)),
    _story("full-name", "中国工商银行发布年报", "中国工商银行今日发布年度报告。", datetime(2021, 3, 2, tzinfo=UTC)),
    _story("code-only", "券商上调目标价", "中金上调(1398.HK)目标价至6港元。", datetime(2021, 3, 3, tzinfo=UTC)),
]
STORIES = DAY_STORIES + RANKED_STORIES + NAMED_STORIES


@pytest.fixture
def indexed(isolated: Settings) -> Iterator[Settings]:
    index_articles(isolated, STORIES)
    yield isolated


def _client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def _ids(client: TestClient, **params: str) -> list[str]:
    response = client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return [hit["id"] for hit in response.json()["hits"]]


def test_a_date_is_a_day_of_the_newsroom(indexed: Settings) -> None:
    beijing = indexed.model_copy(update={"timezone": "Asia/Shanghai"})
    the_day = {"from": "2022-05-05", "to": "2022-05-05"}
    with _client(beijing) as api:
        assert set(_ids(api, q="跨境电商", **the_day)) == {"early", "morning", "late"}
        assert set(_ids(api, **the_day)) == {"early", "morning", "late"}
        assert set(_ids(api, **{"from": "2022-05-06", "to": "2022-05-06"})) == {"after"}
        assert set(_ids(api, **{"from": "2022-05-05T10:39", "to": "2022-05-05T10:39"})) == {"morning"}  # local time
        story = api.get("/search", params={"from": "2022-05-05", "to": "2022-05-05", "q": "上午"}).json()["hits"][0]
        assert story["article"]["published_at"] == "2022-05-05T02:39:00Z"  # the API keeps ISO 8601 (UTC)
        page = api.get("/", params={"q": "跨境电商上午", "from": "2022-05-05", "to": "2022-05-05"})
        assert page.status_code == 200
        assert '<time datetime="2022-05-05T10:39:00+08:00">2022-05-05 10:39 +08:00</time>' in page.text
        assert "02:39" not in page.text
        refused = api.get("/search", params={"from": "2022-05-05T20:00:00Z", "to": "2022-05-05"})
        assert refused.status_code == 422 and "is after `to`" in refused.json()["detail"]
    utc = indexed.model_copy(update={"timezone": "UTC"})
    with _client(utc) as api:
        assert set(_ids(api, **the_day)) == {"morning", "late", "after"}


def test_newsflow_search_shows_times_in_the_newsroom_zone(indexed: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")} | indexed.as_env()
    env["NEWSFLOW_TIMEZONE"] = "Asia/Shanghai"
    command = [str(REPO / ".venv" / "bin" / "newsflow"), "search", "跨境电商上午"]
    if not os.access(command[0], os.X_OK):
        command[0:1] = [sys.executable, "-m", "pipeline.cli"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("1. ") and "跨境电商" in first and first.endswith("2022-05-05 10:39 +08:00"), first


def test_recent_first_at_equal_relevance_and_titles_before_body_mentions(indexed: Settings) -> None:
    with _client(indexed) as api:
        assert _ids(api, q="央行降准")[:2] == ["same-new", "same-old"]
        assert _ids(api, q="港交所")[:2] == ["title-old", "body-new"]
        scores = {hit["id"]: hit["score"] for hit in api.get("/search", params={"q": "央行降准"}).json()["hits"]}
        assert scores["same-new"] > scores["same-old"]
    flat = indexed.model_copy(update={"search_recency_boost": 0.0})
    with _client(flat) as api:
        scores = {hit["id"]: hit["score"] for hit in api.get("/search", params={"q": "央行降准"}).json()["hits"]}
        assert scores["same-new"] == pytest.approx(scores["same-old"])  # only the date tells them apart
        assert _ids(api, q="央行降准")[:2] == ["same-new", "same-old"]  # ties: newest first


def test_names_are_found_under_their_other_names_unless_quoted(indexed: Settings) -> None:
    with _client(indexed) as api:
        every = {"short-name", "full-name", "code-only"}
        assert set(_ids(api, q="工行")) == every
        assert set(_ids(api, q="01398")) == every
        assert set(_ids(api, q="ICBC")) == every
        assert set(_ids(api, q='"工行"')) == {"short-name"}
        assert set(_ids(api, q="“中国工商银行”")) == {"full-name"}
        marked = api.get("/search", params={"q": "工行"}).json()["hits"]
        full = next(hit for hit in marked if hit["id"] == "full-name")
        assert "<mark>中国工商银行</mark>" in full["highlights"]["title"][0]  # the other name is highlighted
