"""All 218 real posts of ../shared/data, parsed and normalized, against what reading them says they are.

See tests/support/post_corpus.py for where each expectation comes from. The corpus is required:
a missing folder fails these tests with a message, it never skips them.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from pipeline.normalize.ids import ID_PATTERN
from pipeline.sources import jekyll
from pipeline.transform import Normalized, normalize_item
from tests.support import post_corpus
from tests.support.post_corpus import EDITORS, ORIGINAL_TITLES, TICKERS, Post, comparable, posts, trailers_in

FETCHED_AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _normalized(post: Post) -> Normalized:
    raw = jekyll.parse(post.path.read_bytes(), post.source, path=str(post.path), fetched_at=FETCHED_AT)
    return normalize_item(raw, normalized_at=FETCHED_AT)


@pytest.fixture(scope="module")
def results() -> dict[str, Normalized]:
    return {f"{post.folder}/{post.name}": _normalized(post) for post in posts()}


def test_the_corpus_is_all_there() -> None:
    found = Counter(post.folder for post in posts())
    assert found == {"finews": 158, "rsshub-page": 60}
    on_disk = {
        f"{folder}/{path.name}" for folder in post_corpus.FOLDERS for path in (post_corpus.CORPUS / folder).iterdir()
    }
    assert on_disk == {f"{post.folder}/{post.name}" for post in posts()}


def test_every_post_becomes_one_document(results: dict[str, Normalized]) -> None:
    assert len(results) == 218
    ids = [result.article.id for result in results.values()]
    assert all(ID_PATTERN.fullmatch(identifier) for identifier in ids)
    # The 7 posts finews keeps in both _posts/ and old_post/ are one story each, so one document each.
    assert len(set(ids)) == 218 - 7
    for name in [p.name for p in posts() if p.name.startswith("old_post_2021-12-08-2021120822066")]:
        twin = name.removeprefix("old_post_")
        if f"finews/{twin}" in results:
            assert results[f"finews/{name}"].article.id == results[f"finews/{twin}"].article.id
    # The story saved from three feeds of the Hexo mirror is three documents, one per outlet.
    copies = [r.article for key, r in results.items() if key.endswith("_1-2月31个省市区一般公共预算收入全部正增长.md")]
    assert {a.outlet for a in copies} == {"新浪财经", "财联社", "证券时报网"}
    assert len({a.id for a in copies}) == 3


@pytest.mark.parametrize("post", posts(), ids=lambda post: f"{post.folder}/{post.name}")
def test_post(post: Post, results: dict[str, Normalized]) -> None:
    result = results[f"{post.folder}/{post.name}"]
    article = result.article
    assert comparable(article.title) == comparable(post.title)
    assert article.category == post.category
    assert article.outlet == post.outlet
    assert article.published_at == post.published
    assert post.written_day == post.day or post.name in post_corpus.DATELINES
    assert article.body_text, "an empty body"
    assert trailers_in(article.body_text) == []
    assert set(article.tickers) == TICKERS.get(post.name, set())
    assert article.editor == EDITORS.get(post.name)
    assert article.original_title == ORIGINAL_TITLES.get(post.name)
    assert article.language == "zh"
    assert article.source_id == post.folder
    if post.published is None:
        assert any("date" in note for note in result.notes), result.notes


def test_the_seed_post_keeps_its_category_outlet_and_tag(results: dict[str, Normalized]) -> None:
    seed = results["finews/2022-05-05-NW202205052369313688.md"].article
    assert (seed.category, seed.outlet, seed.tags) == ("21shijijingjibaodao", "21世纪经济报道", ["21世纪经济报道新闻"])
    assert seed.attribution == "文章来源：21世纪经济报道"


def test_the_digest_post(results: dict[str, Normalized]) -> None:
    article = results["finews/-202205262391921712.md"].article
    assert article.summary.startswith("据霍尼韦尔官网消息，5月24日，霍尼韦尔宣布为蔚来旗下ET7新能源汽车提供")
    assert article.body_text.startswith("国内首款使用超低GWP(全球变暖潜值)制冷剂的新能源汽车来了！\n据霍尼韦尔官网消息")
    assert article.attribution == "文章来源：上海证券报"
    assert any("no usable title" in note for note in results["finews/-202205262391921712.md"].notes)


def test_tables_stay_readable(results: dict[str, Normalized]) -> None:
    lines = results["rsshub-page/10只科创板股获北向资金加仓.md"].article.body_text.split("\n")
    assert "代码 | 简称 | 最新持股量（万股） | 环比（%） | 增减持量（万股） | 增减持市值（万元）" in lines
    assert "688185 | 康希诺 | 104.97 | 1.23 | 1.28 | 790.18" in lines  # its cells are padded: `康 希 诺`
    assert lines[-1] == "688002 | 睿创微纳 | 920.53 | -0.96 | -8.94 | -793.86"  # the stcn keyword list is gone


def test_ideographic_indents_and_empty_paragraphs_are_gone(results: dict[str, Normalized]) -> None:
    for key in ("rsshub-page/0！.md", "rsshub-page/10日人民币对美元汇率中间价调升73个基点.md"):
        lines = results[key].article.body_text.split("\n")
        assert all(line and line == line.strip("\u3000 ") for line in lines), key
    assert results["rsshub-page/10日人民币对美元汇率中间价调升73个基点.md"].article.body_text == (
        "据外汇交易中心公布，3月10日，银行间外汇市场人民币对美元汇率中间价报6.3105元，较前值调升73个基点。"
    )


def test_credits_of_wire_copy(results: dict[str, Normalized]) -> None:
    sina = results["rsshub-page/0！.md"].article
    assert (sina.attribution, sina.outlet) == ("来源：健康广东", "新浪财经")
    wire = results["finews/2021-12-08-202112082206735975.md"].article
    assert wire.attribution == "来源：央视新闻" and wire.body_text.endswith("累计打击恶意商标注册申请37.6万件。")
    nbd = results["rsshub-page/10亿购入的子公司100万出售  天泽信息收关注函.md"].article
    assert nbd.authors == ["郭荣村", "陈浩"] and nbd.summary.startswith("天泽信息拟作价100万元")
    cs = results["rsshub-page/11月境外机构大幅增持我国国债879亿元.md"].article
    assert cs.authors == ["张勤峰", "连润"] and cs.body_text.startswith("中央结算公司9日公布数据显示")
    cls = results["rsshub-page/10余省水泥价格上涨.md"].article
    assert cls.body_text.startswith("本周由于原材料价格上调带动")
