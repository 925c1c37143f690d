from __future__ import annotations

import pytest

from pipeline.normalize.summary import ELLIPSIS, MIN_LEAD_CHARS, SUMMARY_LIMIT, lead

LONG_ZH = "这是第一句话，说明了新闻的主要事实。" * 10 + "这是最后一句没有句号的话" * 5
LONG_EN = ("The first sentence states the news. " * 8).strip()


def test_first_paragraph_is_the_lead() -> None:
    first = (
        "广东省人民政府正式发布通知，8个城市获批设立跨境电子商务综合试验区，全省实现综试区全覆盖。"
        "各市对线上线下两平台建设给出具体规划。"
    )
    assert len(first) >= MIN_LEAD_CHARS
    assert lead([first, "第二段"]) == first


def test_short_opener_takes_the_next_paragraph() -> None:
    assert lead(["新华社北京5月5日电", "国务院常务会议今天召开。"]) == "新华社北京5月5日电国务院常务会议今天召开。"
    assert lead(["By Jo Reyes", "The bank raised rates."]) == "By Jo Reyes The bank raised rates."


@pytest.mark.parametrize("text", [LONG_ZH, LONG_EN])
def test_long_lead_is_bounded_and_cut_at_a_sentence_end(text: str) -> None:
    assert len(text) > SUMMARY_LIMIT
    summary = lead([text])
    assert len(summary) <= SUMMARY_LIMIT
    assert summary[-1] in "。."
    assert text.startswith(summary)


def test_lead_without_sentence_end_is_cut_with_an_ellipsis() -> None:
    text = "没有任何标点的长句子" * 50
    summary = lead([text])
    assert len(summary) == SUMMARY_LIMIT
    assert summary.endswith(ELLIPSIS)
    assert text.startswith(summary[:-1])


@pytest.mark.parametrize("limit", [20, 50, 80])
def test_limit_is_respected(limit: int) -> None:
    assert len(lead([LONG_ZH], limit=limit)) <= limit


def test_empty_body_has_an_empty_lead() -> None:
    assert lead([]) == ""
