"""Markdown post bodies: CommonMark, HTML passed through, indented HTML kept as HTML, the digest apart."""

from __future__ import annotations

import pytest

from pipeline.normalize.html_text import html_paragraphs
from pipeline.normalize.markdown import render_html, render_post


@pytest.mark.parametrize(
    ("markdown", "paragraphs"),
    [
        ("first paragraph\nwrapped line\n\nsecond", ["first paragraph wrapped line", "second"]),
        ("央行今日开展\n逆回购操作。\n\n第二段。", ["央行今日开展逆回购操作。", "第二段。"]),
        ("**bold** and *em* and `code`", ["bold and em and code"]),
        ("[返回首页](//finews.example/) ｜ [返回](../)", ["返回首页｜返回"]),  # spaces beside CJK punctuation go
        ("# 标题\n\n- 一\n- 二", ["标题", "一", "二"]),
        ("|代码|简称|\n|-|-|\n|600519|贵州茅台|", ["代码 | 简称", "600519 | 贵州茅台"]),
        # HTML inside passes through, on one line or over several with blank lines between
        ('<p>5月5日，<a href="x">《通知》</a>发布。</p>\n <p>第二段</p>', ["5月5日，《通知》发布。", "第二段"]),
        ("<div>\n<p>一</p>\n\n<p>二</p>\n</div>", ["一", "二"]),
        # indented template HTML stays HTML instead of becoming a code block of its source text
        (
            "<p>正文。</p>\n\n            <!-- 文末二维码 start -->\n            <style>\n"
            "            .appendQr_wrap&#123;border:1px solid #E6E6E6;&#125;\n            </style>\n"
            '            <div class="appendQr_normal_txt">海量资讯</div>\n',
            ["正文。", "海量资讯"],
        ),
        ("    indented prose stays a code block", ["indented prose stays a code block"]),
        ("", []),
    ],
)
def test_rendered_text(markdown: str, paragraphs: list[str]) -> None:
    assert html_paragraphs(render_html(markdown)) == paragraphs


def test_the_leading_quote_is_the_digest() -> None:
    post = render_post("> 据霍尼韦尔官网消息，霍尼韦尔宣布为蔚来提供制冷剂。\n> （上海证券报）\n\n<p>正文</p>\n")
    assert post.digest_html is not None
    assert html_paragraphs(post.digest_html) == ["据霍尼韦尔官网消息，霍尼韦尔宣布为蔚来提供制冷剂。（上海证券报）"]
    assert html_paragraphs(post.html) == ["正文"]


@pytest.mark.parametrize(
    "markdown",
    ["正文\n\n> 引用不在开头", "<p>> not a quote</p>", "text > arrow"],
)
def test_no_digest_unless_the_post_opens_with_a_quote(markdown: str) -> None:
    post = render_post(markdown)
    assert post.digest_html is None and post.html == render_html(markdown)


def test_a_post_that_is_only_a_digest() -> None:
    post = render_post("\n> 只有摘要")
    assert (post.html, html_paragraphs(post.digest_html or "")) == ("", ["只有摘要"])
