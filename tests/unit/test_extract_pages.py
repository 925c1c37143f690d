"""Article extraction on the evaluation page set (tests/fixtures/pages): the text and the metadata.

The set holds real pages that newspaper4k ships in its sdist, with their expected text, and pages written
on the templates of Chinese and English news sites. Quality figures for every extractor come from
`newsflow eval extraction`; here the extractor must stay at or above the target on the whole set and
never fall far on any one page.
"""

from __future__ import annotations

from functools import cache

import pytest

from pipeline.bench import pageset, textmatch
from pipeline.extract import ExtractedPage, extract_article

PAGES = pageset.load()
WRITTEN = [page for page in PAGES if page.expected]
CHINESE = [page for page in PAGES if page.language == "zh"]
TARGET_F1 = 0.97
PAGE_FLOOR = 0.9


@cache
def extracted(page_id: str) -> ExtractedPage:
    page = BY_ID[page_id]
    return extract_article(page.html, url=page.url)


BY_ID = {page.id: page for page in PAGES}
TRAILERS = ("责任编辑", "责编", "原标题", "APP", "分享到", "相关新闻", "相关阅读", "纠错", "声明：", "扫一扫", "来源：")


def test_the_set_is_what_its_manifest_says() -> None:
    assert len(PAGES) == 28
    assert {page.split for page in PAGES} == {"dev", "held-out"}
    assert len([page for page in PAGES if page.split == "held-out"]) == 8
    assert all(page.text.strip() and page.html for page in PAGES)


def test_f1_on_the_whole_set_reaches_the_target() -> None:
    matches = [textmatch.match(extracted(p.id).body_text, p.text) for p in PAGES]
    precision = sum(m.precision for m in matches) / len(matches)
    recall = sum(m.recall for m in matches) / len(matches)
    assert textmatch.harmonic(precision, recall) >= TARGET_F1, (precision, recall)


@pytest.mark.parametrize("page", PAGES, ids=[page.id for page in PAGES])
def test_no_page_falls_far(page: pageset.Page) -> None:
    result = extracted(page.id)
    assert textmatch.match(result.body_text, page.text).f1 >= PAGE_FLOOR
    assert result.language == page.language


@pytest.mark.parametrize("page", CHINESE, ids=[page.id for page in CHINESE])
def test_chinese_pages_come_whole_without_their_trailers(page: pageset.Page) -> None:
    result = extracted(page.id)
    assert textmatch.match(result.body_text, page.text).recall >= 0.99
    leftovers = [word for word in TRAILERS for line in result.paragraphs if word in line and len(line) < 60]
    assert not leftovers, leftovers


@pytest.mark.parametrize("page", WRITTEN, ids=[page.id for page in WRITTEN])
def test_metadata_of_pages_written_on_news_templates(page: pageset.Page) -> None:
    result = extracted(page.id)
    for field, expected in page.expected.items():
        value = getattr(result, field)
        assert (list(value) if isinstance(value, tuple) else value) == expected, field


def test_metadata_of_real_pages() -> None:
    chinadaily = extracted("n4k_chinese_article_001")
    assert chinadaily.title == "外国专家：中美合作共赢符合国际社会利益"
    assert chinadaily.canonical_url == "https://china.chinadaily.com.cn/a/202311/17/WS65571297a310d5acd876f404.html"
    assert chinadaily.editor == "严玉洁"
    assert chinadaily.published is not None and chinadaily.published.startswith("2023-11-17T")
    time = extracted("n4k_time_001")
    assert time.published == "2023-11-02T19:53:52+00:00"
    assert "Alejandro de la Garza" in time.authors
    assert extracted("n4k_yna_co_kr").canonical_url == "https://en.yna.co.kr/view/AEN20190820002300325"
