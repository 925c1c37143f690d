# ruff: noqa: E501  (the table holds whole paragraphs of real text, one per line)
"""What Chinese outlets put around a story: removed from its paragraphs, kept where useful."""

from __future__ import annotations

import pytest

from pipeline.normalize.outlet_boilerplate import strip_outlet_boilerplate

TEXT = "正文第一段，内容足够长，说明了发生的事情。"
MORE = "正文第二段。"


@pytest.mark.parametrize(
    ("title", "paragraphs", "kept", "credits"),
    [
        # 新浪财经: 原标题 at the top, app line and 责任编辑 at the end
        (
            None,
            ["原标题：2021年1—11月份利润增长38.0%", TEXT, "海量资讯、精准解读，尽在新浪财经APP", "责任编辑：梁斌 SF055"],
            [TEXT],
            {"original_title": "2021年1—11月份利润增长38.0%", "editor": "梁斌"},
        ),
        # 每经网 重磅原创: repeated title, dateline, abstract, bylines; disclaimers and cover credit at the end
        (
            "天泽信息收关注函",
            ["天泽信息收关注函", "每日经济新闻 2021-10-19 21:45:40", "◎天泽信息拟作价100万元出售子公司。",
             "每经记者郭荣村每经实习记者陈浩每经编辑文多", TEXT, "封面图片来源：摄图网"],
            [TEXT],
            {"dateline": "2021-10-19 21:45:40", "digest": "天泽信息拟作价100万元出售子公司。",
             "authors": ["郭荣村", "陈浩"], "editor": "文多"},
        ),
        # 每经网 AI快讯 and its tail
        (
            None,
            ["2021-10-29 09:15:53", "每经AI快讯：北京时间10月29日09:15，人民币中间价报6.3907。", "(记者蔡鼎)",
             "免责声明：本文内容与数据仅供参考，不构成投资建议，使用前核实。据此操作，风险自担。"],
            ["北京时间10月29日09:15，人民币中间价报6.3907。"],
            {"dateline": "2021-10-29 09:15:53", "authors": ["蔡鼎"]},
        ),
        (
            None,
            ["每经编辑孙志成", TEXT, "编辑| 孙志成杜恒峰", "校对|卢祥勇", "每日经济新闻综合国家统计局",
             "截至4月16日6:51，全球新冠肺炎确诊138685238例。关注全球新冠肺炎疫情动态，请点击↓↓"],
            [TEXT],
            {"editor": "孙志成", "attribution": "综合：国家统计局"},
        ),
        (
            None,
            [TEXT, "（每经App登载此文出于传递更多信息之目的，并不意味着赞同其观点或证实其描述。）", "封面图片来源：摄图网"],
            [TEXT],
            {},
        ),
        # 财联社 lead-ins
        ("10余省水泥价格上涨", ["【10余省水泥价格上涨】财联社3月20日电，本周水泥价格上调。"], ["本周水泥价格上调。"], {}),
        (None, ["财联社7月4日讯（编辑潇湘）本周一美国金融市场休市。"], ["本周一美国金融市场休市。"], {"editor": "潇湘"}),
        (None, ["财联社（深圳，记者成孟琦）讯，商汤暂缓上市已成确定性消息。"], ["商汤暂缓上市已成确定性消息。"],
         {"authors": ["成孟琦"]}),
        (None, ["财联社（上海，编辑黄君芝）讯，锁定全球重要宏观数据发布时间。"], ["锁定全球重要宏观数据发布时间。"],
         {"editor": "黄君芝"}),
        # 中证网, 证券时报网
        (None, ["中证网讯（记者 张勤峰 见习记者 连润）中央结算公司9日公布数据。"], ["中央结算公司9日公布数据。"],
         {"authors": ["张勤峰", "连润"]}),
        (None, ["证券时报e公司讯，目前，31个省市区已经发布了数据。"], ["目前，31个省市区已经发布了数据。"], {}),
        (None, ["证券时报网讯，据Choice统计显示，今日100只个股涨停。"], ["据Choice统计显示，今日100只个股涨停。"], {}),
        (
            None,
            [TEXT, "688002 | 睿创微纳 | 920.53", "注：持股增减量根据香港交易所公布的数据测算。本文系新闻报道，不构成投资建议，股市有风险，投资需谨慎。",
             "深沪股通", "科创板、北向资金、北向资金持股、沪股通、沪股通持仓"],
            [TEXT, "688002 | 睿创微纳 | 920.53"],
            {},
        ),
        (None, ["中国基金报记者王建蔷", "房地产市场传来大消息。"], ["房地产市场传来大消息。"], {"authors": ["王建蔷"]}),
        # 新浪 headline brackets repeating the title
        ("100万吨国家钾肥储备投放保春耕", ["【#100万吨国家钾肥储备投放保春耕#】记者21日了解到，储备投放。（记者安蓓）"], ["记者21日了解到，储备投放。"],
         {"authors": ["安蓓"]}),
        # wire copy credits ending the text
        (None, ["离岸人民币兑美元升至6.3512，为2018年以来最高水平。(央视新闻)"], ["离岸人民币兑美元升至6.3512，为2018年以来最高水平。"],
         {"attribution": "来源：央视新闻"}),
        # kept: notes that are not credits, a title-only body, real paragraphs that look short
        (None, ["提前抄底？南向资金连续第10日净流入！（附名单）"], ["提前抄底？南向资金连续第10日净流入！（附名单）"], {}),
        ("11月商品住宅销售价格延续跌势", ["11月商品住宅销售价格延续跌势"], ["11月商品住宅销售价格延续跌势"], {}),
        (None, ["上证发〔2021〕1号", "各市场参与人：", TEXT, "特此通知。", "上海证券交易所", "二〇二一年一月四日"],
         ["上证发〔2021〕1号", "各市场参与人：", TEXT, "特此通知。", "上海证券交易所", "二〇二一年一月四日"], {}),
        # image credits anywhere, a caption printed twice
        (None, [TEXT, "图片来源：国家统计局官网", "表1 主要财务指标", "表1 主要财务指标", MORE],
         [TEXT, "表1 主要财务指标", MORE], {}),
    ],
)  # fmt: skip
def test_outlet_furniture(
    title: str | None, paragraphs: list[str], kept: list[str], credits: dict[str, object]
) -> None:
    found = strip_outlet_boilerplate(paragraphs, title)
    assert found.paragraphs == kept
    expected = {"editor": None, "original_title": None, "attribution": None, "dateline": None, "digest": None}
    expected |= {"authors": []} | credits
    assert {name: getattr(found, name) for name in expected} == expected
