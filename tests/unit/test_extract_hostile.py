"""Hostile and broken pages: extraction never raises, stays bounded, and says what it did."""

from __future__ import annotations

import pytest

from pipeline.extract import MAX_HTML_CHARS, ExtractedPage, extract_article

URL = "https://news.example.com/a.html"
PROSE = "<p>" + "A real paragraph of the article, long enough to count as prose. " * 4 + "</p>"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "plain text, no markup at all",
        "<",
        "<html><head><title>only a title</title></head></html>",
        "\x00\x01\x02<p>\ufffd\ud800 broken</p>",
        "<div>" * 100_000 + "deep" + "</div>" * 100_000,
        "<span>" * 50_000 + "deep inline",
        "<x-item>" * 50_000 + "custom elements",
        "<p>" * 50_000 + "paragraphs left open",
        "<p>" + "a" * 2_000_000 + "</p>",
        "<table>" + "<tr><td>x</td></tr>" * 20_000 + "</table>",
        '<script type="application/ld+json">' + "[" * 100_000 + "</script>" + PROSE,
        '<script type="application/ld+json">{"@type": "NewsArticle", "author": ' + '{"author": ' * 5000 + "</script>",
        '<script type="application/ld+json">{"@type":"NewsArticle","datePublished":{"x":1},"author":42,'
        '"headline":["a"]}</script>' + PROSE,
        '<meta property="article:published_time" content="9999-99-99T99:99:99+99:99">' + PROSE,
        '<meta property="article:published_time" content="' + "2" * 10_000 + '">' + PROSE,
        '<link rel="canonical" href="http://[::1">' + PROSE,
        '<link rel="canonical" href="' + "a" * 100_000 + '">' + PROSE,
        "<title>" + "-" * 50_000 + "</title>" + PROSE,
        '<div class="' + "a" * 100_000 + '">' + PROSE + "</div>",
        "<p>" + "责任编辑：" * 10_000 + "</p>",
        "<p>By " + "Aa " * 30_000 + "</p>",
        "<p>" + "2022年" * 20_000 + "</p>",
        "<svg><p>inside svg</p></svg><math><p>m</p></math>" + PROSE,
    ],
    ids=lambda html: repr(html[:30]),
)
def test_never_raises(html: str) -> None:
    extracted = extract_article(html, url=URL)
    assert isinstance(extracted, ExtractedPage)
    assert all("\n" not in paragraph and paragraph for paragraph in extracted.paragraphs)
    assert not any(note.startswith("extraction failed") for note in extracted.notes)


def test_an_over_size_page_is_cut_with_a_note() -> None:
    extracted = extract_article(PROSE + "<p>" + "x " * MAX_HTML_CHARS + "</p>", url=URL)
    assert any(note.startswith(f"page cut at {MAX_HTML_CHARS}") for note in extracted.notes)
    assert extracted.paragraphs[0].startswith("A real paragraph")


def test_a_bad_url_is_not_a_crash() -> None:
    extracted = extract_article(PROSE, url="not a url at all")
    assert extracted.canonical_url is None and extracted.paragraphs


def test_scripts_styles_and_hidden_text_are_never_text() -> None:
    html = (
        "<article><script>var secret = 1;</script><style>p{}</style>"
        '<p style="display: none">hidden by style</p><p hidden>hidden attribute</p>'
        '<p class="hidden">hidden class</p><p class="hidden md:block">shown on wide screens</p>'
        + PROSE
        + "<noscript>enable js</noscript></article>"
    )
    text = extract_article(html, url=URL).body_text
    for word in ("secret", "p{}", "hidden by", "hidden attribute", "hidden class", "enable js"):
        assert word not in text
    assert "shown on wide screens" in text


def test_a_fragment_without_a_container_keeps_its_text() -> None:
    extracted = extract_article("<p>Short one.</p><p>Short two.</p>", url=URL)
    assert extracted.paragraphs == ("Short one.", "Short two.")
    assert "no article container found: kept all non-link text" in extracted.notes


def test_deep_nesting_is_cut_with_a_note() -> None:
    extracted = extract_article(PROSE + "<div>" * 30_000 + "deep" + "</div>" * 30_000, url=URL)
    assert "page cut where its elements nest deeper than 1000" in extracted.notes
    assert extracted.paragraphs[0].startswith("A real paragraph")
