from __future__ import annotations

import pytest

from pipeline.normalize.html_text import MAX_DEPTH, NestingTooDeep, html_paragraphs, html_to_text, inline_text


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>one</p><p>two</p>", ["one", "two"]),
        ("<p>one</p>\n <p>two</p>\n", ["one", "two"]),
        ("<p><strong>Sub-head</strong></p><p>Text.</p>", ["Sub-head", "Text."]),
        ("<p><strong>Bold lead.</strong>Rest of it.</p>", ["Bold lead.Rest of it."]),
        ("<p>a <b>b</b> <i>c</i> <a href='x'>d</a></p>", ["a b c d"]),
        ("<p>x<br>y<br/>z</p>", ["x", "y", "z"]),
        ("<div>a<p>b</p>c</div>", ["a", "b", "c"]),
        ("<h2>Heading</h2>Loose text", ["Heading", "Loose text"]),
        ("<ul><li>one</li><li>two</li></ul>", ["one", "two"]),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", ["a | b", "c"]),
        (
            "<table><tr>\n<th>分组</th><th>营业收入</th></tr><tr><td> 康 希 诺 </td><td></td><td>1.2</td></tr></table>",
            ["分组 | 营业收入", "康希诺 | | 1.2"],
        ),
        ("<blockquote>quoted</blockquote>after", ["quoted", "after"]),
        ("<pre>line 1\nline 2</pre>", ["line 1", "line 2"]),
        ("<p>wrapped\nsource line</p>", ["wrapped source line"]),
        ("<p>中文\n换行</p>", ["中文换行"]),
        # entities decoded
        ("<p>AT&amp;T &lt;3 &quot;q&quot; &#39;s&#39; &copy;</p>", ["AT&T <3 \"q\" 's' ©"]),
        ("<p>&nbsp;&nbsp;indented&nbsp;text</p>", ["indented text"]),
        ("<p>&#x4e2d;&#25991;</p>", ["中文"]),
        # dropped content
        ("<p>keep</p><script>var x = '<p>no</p>';</script>", ["keep"]),
        ("<style>p { color: red }</style><p>keep</p>", ["keep"]),
        ("<p>a<!-- comment -->b</p>", ["ab"]),
        ("<p>keep</p><noscript>enable js</noscript>", ["keep"]),
        ("<template><p>hidden</p></template><p>keep</p>", ["keep"]),
        ("<iframe src='x'>frame</iframe><p>keep</p>", ["keep"]),
        ("<svg><text>drawn</text></svg><p>keep</p>", ["keep"]),
        ("<title>doc title</title><p>keep</p>", ["keep"]),
        ("<p><img src='x.png' alt='picture'></p><p>keep</p>", ["keep"]),
        # full-width letters/digits folded, zero-width removed
        ("<p>Ｂ２Ｃ变成Ｃ２Ｂ\u200b。</p>", ["B2C变成C2B。"]),
        # plain text, no markup
        ("just text", ["just text"]),
        ("line one\n\nline two", ["line one", "line two"]),
        # malformed HTML still yields text
        ("<p>unclosed <b>bold<p>next", ["unclosed bold", "next"]),
        ("<p>a</div></span>b</p>", ["ab"]),
        ("", []),
        ("   ", []),
        ("<p> </p><p>\u3000</p>", []),
    ],
)
def test_html_paragraphs(html: str, expected: list[str]) -> None:
    assert html_paragraphs(html) == expected


@pytest.mark.parametrize(
    "html",
    [
        "<p>x</p><script>alert(1)</script>",
        "<div><p>a<b>b</b></p></div>",
        "<p>&lt;b&gt;escaped&lt;/b&gt;</p>",
        "<<<>>>",
        "<p onclick='x'>y</p>",
    ],
)
def test_output_never_contains_tags(html: str) -> None:
    text = html_to_text(html)
    assert "<p" not in text and "<script" not in text and "<div" not in text and "onclick" not in text


def test_escaped_markup_stays_text() -> None:
    assert html_to_text("<p>&lt;b&gt;not bold&lt;/b&gt;</p>") == "<b>not bold</b>"


def test_deep_nesting_is_read_without_recursion_up_to_any_articles_depth() -> None:
    depth = MAX_DEPTH
    assert html_paragraphs("<div><span>" * (depth // 2) + "deep" + "</span></div>" * (depth // 2)) == ["deep"]


def test_nesting_deeper_than_any_article_is_refused_before_parsing() -> None:
    depth = 20_000  # the parser needs seconds for this, and minutes for 30,000
    with pytest.raises(NestingTooDeep, match="nests more than 256 elements deep"):
        html_paragraphs("<div>" * depth + "deep" + "</div>" * depth)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Plain title", "Plain title"),
        ("<b>Bold</b> title", "Bold title"),
        ('<script>alert("x")</script>Breaking', "Breaking"),
        ("<style>b{}</style>Styled", "Styled"),
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Line\nbreak", "Line break"),
        ("<p>para one</p><p>para two</p>", "para one para two"),
        ("Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ１２３", "Full－width ABC123"),
        ("<script>only</script>", ""),
        ("a < b and c > d", "a < b and c > d"),
        ("<b>外贸新业态</b> 跨境电商", "外贸新业态 跨境电商"),  # a headline's separating space stays
        ("<b>跨境电商\n综试区</b>", "跨境电商综试区"),  # a wrapped line does not
        ("外贸 &amp; 跨境", "外贸 & 跨境"),
    ],
)
def test_inline_text(value: str, expected: str) -> None:
    assert inline_text(value) == expected
