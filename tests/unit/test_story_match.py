"""Verification of story candidates: near-duplicate text, a text inside another, same headline and figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.stories.match import Reason, containment, figures_contradict, jaccard, same_story, title_similarity
from pipeline.stories.sketch import BOTTOM_K, Fingerprint, fingerprint

AT = datetime(2021, 12, 8, 2, 39, tzinfo=UTC)
WEEK = timedelta(days=7)
# Texts written for these tests, in the style of the wire copy the corpus holds.
REPORT = (
    "某券商发表研究报告指，预计某交易所明年增长率可能较预期低，认为今年第四季及明年市场关键主题为"
    "美联储或于明年年中完成缩减买债，但相信市场表现亦很大程度影响交易所明年增长动力。"
)
LONG = (
    "今年以来，31个省市区已经发布了1-2月地方财政收入数据，记者查询各地官方发布的经济运行情况，梳理发现，"
    "整体上来看，全国31个省市区的一般公共预算收入全部实现正增长，增幅最大的省份相比去年的增幅达到了61.8%。"
)
EXTRA = (
    "值得一提的是，部分省份这几年经济增长比较明显，今年初继续超常发挥，一般预算收入全国排名有所上升。"
    "以各省市区一般公共预算收入来看，沿海大省继续位居榜首，中部省份表现较为突出，相比两年前增长率较高。"
    "专家表示，财政收入的恢复性增长与工业生产回暖、消费市场复苏以及去年同期基数偏低等因素都有关系。"
)
TAIL = "另据记者了解，多地财政部门表示将继续落实减税降费政策，同时加强重点领域支出保障，兜牢基层三保底线。"


def fp(article_id: str, title: str, body: str, at: datetime = AT) -> Fingerprint:
    return fingerprint(article_id, title, body, at)


def test_a_reformatted_reprint_is_the_same_story() -> None:
    a = fp("a", "某交易所增长或放缓", REPORT)
    b = fp("b", "某交易所明年增长或放缓", REPORT.replace("，", ", ") + "（证券时报网）")
    assert same_story(a, b, WEEK) is Reason.TEXT


def test_a_longer_edition_holds_the_short_one() -> None:
    short = fp("a", "全国财政收入全部正增长", LONG)
    longer = fp("b", "各地财政收入", EXTRA + LONG + TAIL)
    assert jaccard(short, longer) < 0.5
    assert containment(short, longer, jaccard(short, longer)) >= 0.8
    assert same_story(short, longer, WEEK) is Reason.CONTAINED


def test_same_headline_and_figures_within_hours_is_the_same_story() -> None:
    flash = fp("a", "某券商：下调某交易所(00388.HK)目标价至574港元", "某券商：下调某交易所目标价至574港元，评级买入。")
    note = fp("b", "某券商：维持某交易所(0388.HK)买入评级 目标价下调至574港元", REPORT, AT + timedelta(minutes=44))
    assert jaccard(flash, note) < 0.2  # the texts share almost nothing
    assert same_story(flash, note, WEEK) is Reason.HEADLINE
    later = fp("c", "某券商：维持某交易所(0388.HK)买入评级 目标价下调至574港元", REPORT, AT + timedelta(hours=13))
    assert same_story(flash, later, WEEK) is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("北向资金净流入超40亿元", "北向资金净流入超50亿元"),  # the same running story, new figure: not a copy
        ("10月10日新闻联播要闻精选", "10月11日新闻联播要闻精选"),  # another day's digest
        ("高盛：首予甲公司买入评级 目标价6.1港元", "高盛：首予乙公司买入评级 目标价22.83港元"),
    ],
)
def test_look_alike_headlines_with_other_figures_are_other_stories(first: str, second: str) -> None:
    a = fp("a", first, f"{first}。数据显示，截至目前，相关情况持续变化。")
    b = fp("b", second, f"{second}。市场人士表示，后续走势仍需观察。")
    assert same_story(a, b, WEEK) is None


def test_flashes_of_a_running_figure_with_other_figures_are_other_stories() -> None:
    # One-line flashes alike but for the figure share most of their few shingles: without the figures'
    # veto they chain every update into one story, and which one would depend on arrival order.
    forty = fp("a", "北向资金净流入超40亿", "数据显示，截至目前，北向资金净流入超40亿元。")
    fifty = fp("b", "北向资金净流入超50亿", "数据显示，截至目前，北向资金净流入超50亿元。", AT + timedelta(minutes=11))
    assert jaccard(forty, fifty) >= 0.5
    assert same_story(forty, fifty, WEEK) is None
    again = fp("c", "北向资金净流入超40亿元", "北向资金净流入超40亿元。", AT + timedelta(minutes=2))
    assert same_story(forty, again, WEEK) is Reason.HEADLINE
    # Nearly the same long text stands even when a headline's figure was changed.
    a = fp("d", "全国31个省市区财政收入全部正增长", EXTRA + LONG + TAIL)
    b = fp("e", "全国财政收入增幅最高61.8%", EXTRA + LONG + TAIL)
    assert same_story(a, b, WEEK) is Reason.TEXT


@pytest.mark.parametrize(
    ("first", "second", "contradict"),
    [((), ("40",), False), (("40",), ("40",), False), (("40",), ("2021", "40"), False), (("40",), ("50",), True)],
)
def test_figures_contradict_when_each_has_one_the_other_lacks(
    first: tuple[str, ...], second: tuple[str, ...], contradict: bool
) -> None:
    assert figures_contradict(first, second) is contradict


def test_outside_the_window_nothing_matches() -> None:
    a = fp("a", "某交易所增长或放缓", REPORT)
    b = fp("b", "某交易所增长或放缓", REPORT, AT + timedelta(days=8))
    assert same_story(a, b, WEEK) is None
    assert same_story(a, b, timedelta(days=10)) is Reason.TEXT


def test_unrelated_texts_are_other_stories() -> None:
    assert same_story(fp("a", "某交易所增长或放缓", REPORT), fp("b", "全国财政收入全部正增长", LONG), WEEK) is None


def test_jaccard_and_title_similarity_edges() -> None:
    def sketched(*values: int) -> Fingerprint:
        return Fingerprint("x", AT, len(values), values, (), "", ())

    assert jaccard(sketched(), sketched(1, 2)) == 0.0 and jaccard(sketched(1, 2, 3), sketched(1, 2, 3)) == 1.0
    assert jaccard(sketched(1, 2), sketched(2, 3)) == 1 / 3
    full = tuple(range(0, 2 * BOTTOM_K, 2))  # 0, 2, ... : a full sketch whose set goes on above it
    half = tuple(range(0, BOTTOM_K))  # 0, 1, ..., 127: a whole set
    assert jaccard(sketched(*full), sketched(*half)) == pytest.approx(64 / 128)  # below 127 (64 even, 64 odd)
    assert title_similarity("", "x") == 0.0 and title_similarity("港交所", "港交所") == 1.0
    assert title_similarity("a", "a") == 1.0
