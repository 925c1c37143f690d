"""Shared fixtures of the pure-core unit tests: fixture files, sources, raw items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.normalize.ids import fingerprint, make_id
from schemas.models import RawItem, SourceInfo, SourceType

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FEEDS = FIXTURES / "feeds"
POSTS = FIXTURES / "posts"
SEED = POSTS / "seed.txt"
FETCHED_AT = datetime(2022, 5, 6, 0, 0, 0, tzinfo=UTC)
NORMALIZED_AT = datetime(2022, 5, 6, 0, 0, 5, tzinfo=UTC)

# Known facts of the seed document (read off the file, not from a run of the code).
SEED_URL = "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688"
SEED_TITLE = "广东8个跨境电商综试区方案同日出炉：联动特色产业打造“闭环式”生态圈"
SEED_OUTLET = "21世纪经济报道"
SEED_CATEGORY = "21shijijingjibaodao"
SEED_TAG = "21世纪经济报道新闻"


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    return SEED.read_bytes()


@pytest.fixture(scope="session")
def jekyll_source() -> SourceInfo:
    return SourceInfo(
        id="21jingji", type=SourceType.JEKYLL, outlet=SEED_OUTLET, category=SEED_CATEGORY, tags=[], language="zh"
    )


@pytest.fixture(scope="session")
def feed_source() -> SourceInfo:
    return SourceInfo(id="example-feed", type=SourceType.FEED, outlet="Example News", category="news", tags=["wire"])


@pytest.fixture
def make_raw(feed_source: SourceInfo) -> Callable[..., RawItem]:
    """A RawItem with sensible defaults; keyword arguments override fields."""

    def build(**fields: Any) -> RawItem:
        values: dict[str, Any] = {
            "item_id": make_id("test", str(sorted(fields.items(), key=str))),
            "source": feed_source,
            "fetched_at": FETCHED_AT,
            "url": "https://example.com/story",
            "title": "A title",
            "content_html": "<p>A body.</p>",
            "content_hash": fingerprint("test"),
        }
        values.update(fields)
        return RawItem(**values)

    return build


def feed_bytes(name: str) -> bytes:
    return (FEEDS / name).read_bytes()
