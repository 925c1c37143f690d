"""Lead-ins, trailers and promotions of news templates, table-driven, and what they leave behind."""

from __future__ import annotations

import pytest

from pipeline.extract.trailers import byline_names, editor_of, trim

PROSE = "国家统计局27日发布数据显示，一季度全国规模以上工业企业实现利润总额同比增长8.5%，增速比上年同期有所加快。"


@pytest.mark.parametrize(
    ("line", "editor"),
    [
        ("责任编辑：王蒙", "王蒙"),
        ("责任编辑： 陈丽湘 　　校对： 王朝全", "陈丽湘"),
        ("【责任编辑：严玉洁】", "严玉洁"),
        ("【纠错】 【责任编辑：刘小红】", "刘小红"),
        ("（责任编辑：DF064）", "DF064"),
        ("责编 陈星", "陈星"),
        ("编辑：李艳霞", "李艳霞"),
        ("（编辑：严玉洁 王辉）", "严玉洁"),
        ("编辑部表示，将继续跟踪报道此事的最新进展，并向读者及时通报。" * 2, None),
        (PROSE, None),
    ],
)
def test_editor(line: str, editor: str | None) -> None:
    assert editor_of(line) == editor


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("每经记者 张明 刘晓　　　　每经编辑 陈星", ["张明", "刘晓"]),
        ("21世纪经济报道记者 王峰 北京报道", ["王峰"]),
        ("本报记者 李强", ["李强"]),
        ("作者：李明", ["李明"]),
        ("文/张三", ["张三"]),
        ("By Ann Saphir and Wayne Cole", ["Ann Saphir", "Wayne Cole"]),
        ("By Maria Lopez | June 14, 2022", ["Maria Lopez"]),
        ("文化部表示", None),
        ("记者注意到，近一个月以来，已有多个城市发布楼市新政。", None),
        (PROSE, None),
    ],
)
def test_byline(line: str, names: list[str] | None) -> None:
    assert byline_names(line) == names


@pytest.mark.parametrize(
    ("paragraphs", "kept"),
    [
        # lead-ins
        (["原标题：跨境电商综试区再扩容 外贸新业态加速发展", "21世纪经济报道记者 王峰 北京报道", PROSE], [PROSE]),
        (["2022-05-05 10:39 来源：21世纪经济报道", PROSE], [PROSE]),
        (["来源：新华网", PROSE], [PROSE]),
        (["（文章来源：21世纪经济报道）", PROSE], [PROSE]),
        # trailers, any number of them, in any order
        ([PROSE, "（文章来源：21世纪经济报道）", "责任编辑：王蒙"], [PROSE]),
        (
            [
                PROSE,
                "封面图片来源：视觉中国-VCG41N1234567890",
                "责编 陈星",
                "特别提醒：如果我们使用了您的图片，请作者与本站联系索取稿酬。",
            ],
            [PROSE],
        ),
        ([PROSE, "郑重声明：东方财富发布此内容旨在传播更多信息，与本站立场无关，不构成投资建议。"], [PROSE]),
        ([PROSE, "声明：文章不构成投资建议。股市有风险，投资需谨慎。"], [PROSE]),
        ([PROSE, "相关阅读", "相关新闻：3月份工业生产保持增长"], [PROSE]),
        ([PROSE, "Reporting by Wayne Cole; Editing by Sam Holmes", "Our Standards: The Trust Principles."], [PROSE]),
        ([PROSE, "-- By Michael Russell Follow @tdmrussell"], [PROSE]),
        # promotions and share bars anywhere
        ([PROSE, "海量资讯、精准解读，尽在新浪财经APP", PROSE], [PROSE, PROSE]),
        ([PROSE, "下载财联社APP获取更多资讯", PROSE], [PROSE, PROSE]),
        ([PROSE, "分享到：微信 微博", PROSE], [PROSE, PROSE]),
        ([PROSE, "Advertisement", PROSE], [PROSE, PROSE]),
        ([PROSE, "Sign up here for our daily markets newsletter.", PROSE], [PROSE, PROSE]),
        ([PROSE, "［有料会員限定］この記事は会員限定です。電子版に登録すると続きをお読みいただけます。"], [PROSE]),
        # what is prose stays, even when it mentions the words
        (
            ["记者 王峰", "市场人士表示，上述声明发布后，相关个股午后走强。", PROSE],
            ["市场人士表示，上述声明发布后，相关个股午后走强。", PROSE],
        ),
        ([PROSE, "该公司APP月活跃用户数同比增长35%，下载量在应用商店排名第一，管理层表示将继续加大投入。" * 2], None),
        ([PROSE, "责任编辑在采访中表示，" + PROSE], None),
        ([], []),
    ],
)
def test_trim(paragraphs: list[str], kept: list[str] | None) -> None:
    assert trim(paragraphs, title=None).paragraphs == (paragraphs if kept is None else kept)


def test_what_trailers_say_is_kept() -> None:
    trimmed = trim(
        [
            "原标题：旧的标题",
            "每经记者 张明 刘晓　每经编辑 陈星",
            PROSE,
            "（文章来源：21世纪经济报道）",
            "【责任编辑：严玉洁】",
        ],
        title=None,
    )
    assert trimmed.paragraphs == [PROSE]
    assert (trimmed.original_title, trimmed.authors, trimmed.attribution, trimmed.editor) == (
        "旧的标题",
        ["张明", "刘晓"],
        "文章来源：21世纪经济报道",
        "严玉洁",
    )
    assert len(trimmed.dropped) == 4


def test_a_repeated_title_is_dropped() -> None:
    assert trim(["港交所一季度净利润同比下降", PROSE], title="港交所一季度净利润同比下降").paragraphs == [PROSE]


def test_rules_read_the_spaced_form() -> None:
    trimmed = trim(
        ["21世纪经济报道记者王峰北京报道", PROSE], title=None, forms=["21世纪经济报道记者 王峰 北京报道", PROSE]
    )
    assert trimmed.paragraphs == [PROSE] and trimmed.authors == ["王峰"]
