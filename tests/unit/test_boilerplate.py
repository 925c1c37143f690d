from __future__ import annotations

import pytest

from pipeline.normalize.boilerplate import (
    attribution_of,
    bare_link,
    extract_attribution,
    is_navigation,
    strip_trailer,
)

SEED_NAVIGATION = (
    "[返回21世纪经济报道新闻](//finews.withounder.com/category/21shijijingjibaodao.html)"
    "｜[返回首页](//finews.withounder.com/)"
)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1>",
            "http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW1",
        ),
        ("https://example.com/a", "https://example.com/a"),
        ("  <https://example.com/a>  ", "https://example.com/a"),
        ("//cdn.example.com/x", "//cdn.example.com/x"),
        ("see https://example.com/a", None),
        ("<p>text</p>", None),
        ("", None),
    ],
)
def test_bare_link(line: str, expected: str | None) -> None:
    assert bare_link(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (SEED_NAVIGATION, True),
        ("[返回首页](//finews.withounder.com/)", True),
        ("[Home](/) | [News](/news)", True),
        ("返回首页", True),
        ("返回21世纪经济报道新闻｜返回首页", True),
        ("返回顶部", True),
        ("Back to top", True),
        ("他表示，返回首页的用户越来越多，这说明改版是成功的。", False),
        ("返回" + "很长的一句话" * 20, False),
        ("See [this](http://x) for details", False),
        ("跨境电商联动产业纵深发展", False),
    ],
)
def test_is_navigation(line: str, expected: bool) -> None:
    assert is_navigation(line) is expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [
        (["a", "b", "<http://x.example/1>", SEED_NAVIGATION], ["a", "b"]),
        (["a", "http://x.example/1"], ["a"]),
        (["a", "返回首页", "返回首页"], ["a"]),
        (["a", "b"], ["a", "b"]),
        (["返回首页"], []),
        ([], []),
        # only trailing lines go: a link in the middle stays
        (["a", "https://x.example/in-the-middle", "b"], ["a", "https://x.example/in-the-middle", "b"]),
    ],
)
def test_strip_trailer(paragraphs: list[str], expected: list[str]) -> None:
    assert strip_trailer(paragraphs) == expected


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        ("（文章来源：21世纪经济报道）", "文章来源：21世纪经济报道"),
        ("(文章来源:21世纪经济报道)", "文章来源：21世纪经济报道"),
        ("文章来源：新华社", "文章来源：新华社"),
        ("来源：人民日报", "来源：人民日报"),
        ("（来源： 中国新闻网 ）", "来源：中国新闻网"),
        ("稿件来源：本报记者", "稿件来源：本报记者"),
        ("本文来源：澎湃新闻", "本文来源：澎湃新闻"),
        ("资料来源：国家统计局", "资料来源：国家统计局"),
        ("据新华社报道，来源：官方", None),
        ("数据来源于国家统计局的公开资料。", None),
        ("跨境电商联动产业纵深发展", None),
        ("（文章来源：" + "很" * 100 + "）", None),
    ],
)
def test_attribution_of(paragraph: str, expected: str | None) -> None:
    assert attribution_of(paragraph) == expected


@pytest.mark.parametrize(
    ("paragraphs", "kept", "attribution"),
    [
        (["a", "b", "（文章来源：21世纪经济报道）"], ["a", "b"], "文章来源：21世纪经济报道"),
        (["来源：新华社", "a", "b"], ["a", "b"], "来源：新华社"),
        (["a", "b", "c", "d", "e"], ["a", "b", "c", "d", "e"], None),
        # in the middle of a long article it is content (a caption, a chart source)
        (["a", "b", "来源：国家统计局", "c", "d", "e", "f"], ["a", "b", "来源：国家统计局", "c", "d", "e", "f"], None),
        # two attributions at the end: the first is kept, both leave the body
        (["a", "来源：甲", "来源：乙"], ["a"], "来源：甲"),
        ([], [], None),
    ],
)
def test_extract_attribution(paragraphs: list[str], kept: list[str], attribution: str | None) -> None:
    assert extract_attribution(paragraphs) == (kept, attribution)
