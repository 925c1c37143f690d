"""Simple markup split at its tags gives exactly the paragraphs of the parser's tree, or defers to it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipeline.bench import corpus
from pipeline.normalize import simple_html
from pipeline.normalize.html_text import html_paragraphs, parsed_paragraphs
from pipeline.normalize.markdown import render_html as markdown_to_html
from pipeline.normalize.simple_html import simple_paragraphs

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def _bodies() -> list[str]:
    """Bodies as the normalizer sees them: the bench corpora's (Markdown rendered where they are Markdown)
    and the real posts' bodies rendered."""
    bodies = []
    for item in corpus.generate(1500, 11) + corpus.generate(500, 12, corpus.SEED_SIZED):
        html = item.raw.content_html or ""
        bodies.append(markdown_to_html(html) if item.raw.content_format == "markdown" else html)
    for path in sorted(DATA.rglob("*.md")):
        text = path.read_text("utf-8", "replace")
        body = text.split("\n---", 2)[-1] if text.startswith("---") else text
        bodies.append(markdown_to_html(body))
    return bodies


def _agree(html: str) -> bool:
    """True when the fast path took `html`; asserts that it then matches the parser in both newline modes."""
    fast = simple_paragraphs(html)
    if fast is None:
        return False
    assert fast == parsed_paragraphs(html), html
    assert simple_paragraphs(html, "\n") == parsed_paragraphs(html, "\n"), html
    return True


def test_real_and_bench_bodies_match_the_parser() -> None:
    bodies = _bodies()
    taken = sum(_agree(body) for body in bodies)
    assert len(bodies) > 2000
    assert taken >= 0.9 * len(bodies)  # the fast path is the common case, or it buys nothing


# Fragments built at random from the tags the fast path knows, those it refuses, entities it decodes
# and those it leaves to the parser, texts with newlines, spaces and CJK; some then broken on purpose.
_TEXTS = ["新闻", "a b", " ", "\n", "  x\n y ", "港交所", "AT&amp;T", "&lt;tag&gt;", "&nbsp;", "&#20013;", "&#x4e2d;",
          "&quot;q&quot;", "&apos;", "&copy;", "&amp", "&#0;", "&#128;", "&#xD800;", "& ", "a > b", "1 < 2", "\t",
          "\x0c", "&#65534;", "&AMP;", "&notit;", "é", "\U0001f600", "\r", "a\r\nb", "\x00"]  # fmt: skip
_TAGS = [*sorted(simple_html.BLOCKS | simple_html.INLINE), "table", "pre", "script", "span", "td", "body", "P"]
_TRICKY = ["h1", "h2", "li", "dt", "dd", "a", "p", "div", "b", "ul", "ol", "dl"]  # what the parser repairs
_VOIDS = ["br", "hr", "img", "wbr", "br/", "img alt='x'", "/br"]


def _fragment(rng: random.Random, depth: int = 0) -> str:
    out = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.4 or depth > 5:
            out.append(rng.choice(_TEXTS))
        elif roll < 0.5:
            out.append(f"<{rng.choice(_VOIDS)}>")
        else:
            tag = rng.choice(_TRICKY if rng.random() < 0.5 else _TAGS)
            attrs = rng.choice(["", ' class="x"', " href='/a?b=1&amp;c=2'", " data-x", ' title="a>b"', " id=x"])
            out.append(f"<{tag}{attrs}>{_fragment(rng, depth + 1)}</{tag}>")
    return "".join(out)


def _broken(rng: random.Random, html: str) -> str:
    roll = rng.random()
    if roll < 0.25 and "</" in html:  # an end tag dropped
        at = rng.choice([i for i in range(len(html)) if html.startswith("</", i)])
        return html[:at] + html[html.index(">", at) + 1 :]
    if roll < 0.5:  # a stray end tag or start tag
        at = rng.randint(0, len(html))
        return html[:at] + rng.choice(["</p>", "</div>", "<p>", "<li>", "</h2>", "<h3>", "<a>", "</b>"]) + html[at:]
    if roll < 0.6:
        return "\n \t" + html
    return html


@pytest.mark.parametrize("seed", range(8))
def test_generated_fragments_match_the_parser_or_defer(seed: int) -> None:
    rng = random.Random(seed)
    taken = 0
    for _ in range(600):
        html = _fragment(rng)
        taken += _agree(html)
        _agree(_broken(rng, html))
    assert taken > 100  # the generator reaches the fast path, not only the parser


@pytest.mark.parametrize(
    "html",
    [
        "<h1>a<h2>b</h2>c</h1>d",  # a heading inside a heading: the parser closes the first one early
        "<ul><li>a<li>b</li>c</li></ul>d",  # an item inside an item
        "<dl><dt>a<dd>b</dd>c</dt></dl>",
        "<a href='x'>a<a>b</a>c</a>",
        "<p>a</div>b</p>",  # an end tag of nothing
        "<div/>a",  # a self-closing non-void element
        "a</br>b",
        "<!-- c -->a",
        "<P>a</P>",
        "a &copy; b",
        "<p>a\r\nb</p>",
        "<pre>a\nb</pre>",
        "<table><tr><td>a</td></tr></table>",
        "<p\u3000class='x'>a</p>",  # not a space between a tag's parts in HTML: an element named so
    ],
)
def test_what_the_parser_repairs_is_left_to_it(html: str) -> None:
    assert simple_paragraphs(html) is None
    assert html_paragraphs(html) == [p.strip() for p in html_paragraphs(html)]  # still answered, by the parser


@pytest.mark.parametrize(
    "html",
    [
        "<ul><li>a<ul><li>b</li></ul>c</li></ul>",  # nested lists are fine: the inner list stops the rule
        "<p>a<div>b</div>c</p>d",  # a block inside a paragraph: the parser's repair ends paragraphs where the tags are
        "<p><b><p>x</p>y</b></p>z",
        "\n\n  <p>AT&amp;T &#20013;&#x6587; &nbsp;x</p>",
        "<blockquote><p>q</p></blockquote><hr>after<br>line",
    ],
)
def test_simple_markup_is_split_as_the_parser_would(html: str) -> None:
    assert _agree(html)


def test_deep_markup_goes_to_the_parser_which_refuses_it() -> None:
    html = "<div>" * (simple_html.MAX_DEPTH + 1) + "x" + "</div>" * (simple_html.MAX_DEPTH + 1)
    assert simple_paragraphs(html) is None
