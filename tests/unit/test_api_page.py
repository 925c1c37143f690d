"""The search page's HTML: escaping of everything from the index or the request, links, pagination."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pipeline.api import page
from pipeline.api.models import Copy, Facets, FacetValue, Hit, SearchResult, StoryGroup
from pipeline.api.queries import SearchParams
from schemas.models import Article, SourceType

HOSTILE = "<script>alert(1)</script>"
BEIJING = ZoneInfo("Asia/Shanghai")


def _article(**fields: Any) -> Article:
    when = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": "a1",
        "url": "https://example.com/a1",
        "title": "广东8个跨境电商综试区方案同日出炉",
        "summary": "广东8个跨境电商综试区方案同日出炉。",
        "body_text": "正文",
        "published_at": when,
        "language": "zh",
        "outlet": "21世纪经济报道",
        "category": "21shijijingjibaodao",
        "tags": ["跨境电商"],
        "keywords": ["跨境电商"],
        "char_count": 2,
        "content_hash": "h",
        "source_id": "s",
        "source_type": SourceType.FEED,
        "fetched_at": when,
        "normalized_at": when,
        "version": 1,
        "pipeline_version": "test",
    }
    values.update(fields)
    return Article(**values)


def _view(
    hits: list[Hit], *, total: int | None = None, page_number: int = 1, size: int = 10, **form: list[str]
) -> page.PageView:
    raw: dict[str, Any] = {k: v if k in ("outlet", "category", "tag") else v[0] for k, v in form.items()}
    params = SearchParams.model_validate({**raw, "page": page_number, "size": size})
    total = len(hits) if total is None else total
    result = SearchResult(query=params.q, total=total, page=page_number, size=size, pages=-(-total // size), hits=hits)
    facets = Facets(
        outlet=[FacetValue(value="21世纪经济报道", count=4), FacetValue(value="<b>Evil</b>", count=1)],
        category=[FacetValue(value="21shijijingjibaodao", count=4)],
        tag=[FacetValue(value="跨境电商", count=2)],
    )
    return page.PageView(form=form, params=params, result=result, facets=facets)


def _hrefs(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]*)"', html)]


def test_page_declares_utf8_and_language_and_keeps_chinese_as_text() -> None:
    html = page.render(_view([Hit(id="a1", score=None, article=_article())]))
    assert html.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in html and '<html lang="en">' in html
    assert '<li class="hit" lang="zh">' in html
    assert "广东8个跨境电商综试区方案同日出炉" in html
    assert "21世纪经济报道 · 21shijijingjibaodao · " in html
    assert '<time datetime="2024-05-01T08:30:00+00:00">2024-05-01 08:30 +00:00</time>' in html


def test_times_are_shown_in_the_newsroom_zone_with_its_offset() -> None:
    """A story published at 02:39 UTC on 2022-05-05 is 10:39 in Beijing."""
    article = _article(published_at=datetime(2022, 5, 5, 2, 39, tzinfo=UTC))
    view = dataclasses.replace(_view([Hit(id="a1", score=None, article=article)]), zone=BEIJING)
    html = page.render(view)
    assert '<time datetime="2022-05-05T10:39:00+08:00">2022-05-05 10:39 +08:00</time>' in html
    assert "02:39" not in html
    assert (
        page.local_time(datetime(2022, 5, 4, 17, 0, tzinfo=UTC), ZoneInfo("Asia/Shanghai")) == "2022-05-05 01:00 +08:00"
    )
    assert (
        page.local_time(datetime(2022, 1, 1, 12, 0, tzinfo=UTC), ZoneInfo("America/New_York"))
        == "2022-01-01 07:00 -05:00"
    )
    assert (
        page.local_time(datetime(2022, 7, 1, 12, 0, tzinfo=UTC), ZoneInfo("America/New_York"))
        == "2022-07-01 08:00 -04:00"
    )


def test_hostile_document_values_are_escaped_and_script_links_dropped() -> None:
    evil = _article(
        id="evil",
        url="javascript:alert(1)",
        title=HOSTILE,
        summary='"><img src=x onerror=alert(1)>',
        outlet="<b>Evil</b>",
        tags=['"><svg onload=alert(1)>'],
        language="<x>",
    )
    html = page.render(_view([Hit(id="evil", score=1.0, article=evil)]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    for raw in ("<script", "<img", "<svg", "<b>", "javascript:", 'lang="<x>"'):
        assert raw not in html
    assert '<a href="/articles/evil">&lt;script&gt;' in html  # no safe URL: the title links to the JSON


def test_highlights_are_inserted_as_they_are_and_preferred_to_plain_text() -> None:
    hit = Hit(
        id="a1",
        score=2.0,
        article=_article(),
        highlights={"title": ["广东8个<mark>跨境电商</mark>"], "body_text": ["一<mark>跨境</mark>", "二"]},
    )
    html = page.render(_view([hit], q=["跨境电商"]))
    assert '<a href="https://example.com/a1">广东8个<mark>跨境电商</mark></a>' in html
    assert '<p class="snippet">一<mark>跨境</mark> … 二</p>' in html
    assert "most relevant first" in html


def test_summary_is_the_snippet_without_highlights() -> None:
    html = page.render(_view([Hit(id="a1", score=None, article=_article(summary="A & B <c>"))]))
    assert '<p class="snippet">A &amp; B &lt;c&gt;</p>' in html
    assert "newest first" in html


def test_filters_are_dropdowns_from_the_facets_with_the_choice_selected() -> None:
    html = page.render(_view([], outlet=["21世纪经济报道"], tag=["不在列表"]))
    assert '<select name="outlet">' in html and '<select name="category">' in html and '<select name="tag">' in html
    assert '<option value="21世纪经济报道" selected>21世纪经济报道 (4)</option>' in html
    assert '<option value="&lt;b&gt;Evil&lt;/b&gt;">&lt;b&gt;Evil&lt;/b&gt; (1)</option>' in html
    assert '<option value="不在列表" selected>不在列表</option>' in html  # kept even when not a top value
    assert '<input type="date" name="from"' in html and '<input type="date" name="to"' in html
    assert "No articles match." in html


def test_pagination_links_keep_the_query_and_filters() -> None:
    hits = [Hit(id=f"a{n}", score=None, article=_article(id=f"a{n}")) for n in range(10)]
    html = page.render(_view(hits, total=120, page_number=6, q=["跨境 电商"], outlet=["21世纪经济报道"]))
    pages = [parse_qs(urlsplit(h).query) for h in _hrefs(html) if "page=" in h or h.startswith("/?")]
    numbers = [int(p.get("page", ["1"])[0]) for p in pages if "tag" not in p]
    assert numbers == [5, 1, 4, 5, 7, 8, 12, 7]  # previous, 1, …, 4 5 [6] 7 8, …, 12, next
    assert all(p["q"] == ["跨境 电商"] and p["outlet"] == ["21世纪经济报道"] for p in pages)
    assert "<strong>6</strong>" in html and html.count("<span>…</span>") == 2
    assert "51–60 of 120 articles" in html


def test_first_and_last_pages_have_no_previous_or_next() -> None:
    hits = [Hit(id="a1", score=None, article=_article())]
    first = page.render(_view(hits, total=25, page_number=1))
    last = page.render(_view(hits, total=25, page_number=3))
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert "<nav" not in page.render(_view(hits, total=1))


def test_tag_links_filter_by_that_tag_from_the_first_page() -> None:
    hits = [Hit(id="a1", score=None, article=_article(tags=["跨境电商", "a&b"]))]
    html = page.render(_view(hits, total=40, page_number=3, q=["广东"], tag=["old"]))
    tag_links = [parse_qs(urlsplit(h).query) for h in _hrefs(html) if "tag=" in h and "old" not in h]
    assert tag_links == [{"q": ["广东"], "tag": ["跨境电商"]}, {"q": ["广东"], "tag": ["a&b"]}]


def test_an_error_view_refills_the_form_escaped() -> None:
    view = page.PageView(form={"q": ['"><script>x</script>'], "from": ["2024-13-01"]}, error="bad <from>")
    html = page.render(view)
    assert '<p class="error" role="alert">bad &lt;from&gt;</p>' in html
    assert 'value="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in html
    assert 'name="from" value="2024-13-01"' in html
    assert "<script" not in html and '<ol class="hits">' not in html


def _facet_view(**form: list[str]) -> page.PageView:
    view = _view([Hit(id="a1", score=None, article=_article())], **form)
    matching = Facets(
        outlet=[FacetValue(value="21世纪经济报道", count=3), FacetValue(value="<b>Evil</b>", count=1)],
        category=[FacetValue(value="21shijijingjibaodao", count=3)],
        tag=[FacetValue(value="跨境电商", count=2), FacetValue(value="外贸", count=1)],
    )
    return dataclasses.replace(view, matching=matching)


def _links(html: str, heading: str) -> dict[str, dict[str, list[str]]]:
    """The facet section `heading`'s links: link text (or aria-label) -> its query parameters."""
    section = re.search(rf'<section aria-labelledby="facet-{heading}">(.*?)</section>', html, re.DOTALL)
    assert section is not None, heading
    found = {}
    for attributes, text in re.findall(r"<a ([^>]*)>(.*?)</a>", section.group(1)):
        href = re.search(r'href="([^"]*)"', attributes)
        label = re.search(r'aria-label="([^"]*)"', attributes)
        assert href is not None and label is not None, attributes  # every link has a name a reader announces
        found[text] = parse_qs(urlsplit(href.group(1).replace("&amp;", "&")).query)
    return found


def test_facet_values_of_the_matching_stories_are_links_that_narrow_the_results() -> None:
    html = page.render(_facet_view(q=["跨境电商"], tag=["外贸"]))
    assert '<aside class="facets" aria-label="Narrow the results">' in html
    outlets = _links(html, "outlet")
    assert outlets["21世纪经济报道"] == {"q": ["跨境电商"], "outlet": ["21世纪经济报道"], "tag": ["外贸"]}
    assert "&lt;b&gt;Evil&lt;/b&gt;" in outlets  # escaped, never markup
    tags = _links(html, "tag")
    assert tags["跨境电商"]["tag"] == ["外贸", "跨境电商"]  # every tag must match: a tag link adds one
    assert tags["×"] == {"q": ["跨境电商"]}  # the chosen tag links to its removal
    assert '<strong aria-current="true">外贸</strong>' in html
    assert 'aria-label="Remove the tag filter 外贸"' in html
    assert 'aria-label="Outlet 21世纪经济报道, 3 articles"' in html


def test_a_chosen_outlet_can_be_replaced_or_removed() -> None:
    html = page.render(_facet_view(outlet=["21世纪经济报道"]))
    outlets = _links(html, "outlet")
    assert outlets["×"] == {}  # removing the only filter: the plain page
    assert outlets["&lt;b&gt;Evil&lt;/b&gt;"] == {"outlet": ["<b>Evil</b>"]}  # another outlet replaces it


def test_no_facet_links_without_matching_stories() -> None:
    html = page.render(_view([]))
    assert "<aside" not in html and "Skip to the results" not in html


def test_every_control_has_a_label_and_a_skip_link_leads_to_the_results() -> None:
    html = page.render(_facet_view(q=["x"]))
    form = re.search(r"<form.*?</form>", html, re.DOTALL)
    assert form is not None
    labelled = re.findall(r"<label>[^<]+<(?:input|select)", form.group(0))
    visible = [c for c in re.findall(r"<(input|select)\b([^>]*)>", form.group(0)) if 'type="hidden"' not in c[1]]
    assert len(labelled) == len(visible) >= 6  # query, outlet, category, tag, ..., from, to: each in its label
    assert "<button type=submit>Search</button>" in form.group(0)
    assert '<a class="skip" href="#results">Skip to the results</a>' in html
    assert '<p class="summary" id="results" tabindex="-1">' in html
    assert "From (UTC)" in html  # dates are days of the newsroom's zone, and the label says which


def _story_hit() -> Hit:
    copies = [
        Copy(id="c2", title="同一报道（转载）", outlet="证券时报", url="https://example.com/c2", published_at=None),
        Copy(id="c3", title=HOSTILE, outlet=HOSTILE, url="javascript:alert(1)", published_at=None),
    ]
    return Hit(id="a1", score=1.0, article=_article(story_id="s1"), story=StoryGroup(id="s1", copies=3, more=copies))


def test_other_copies_of_a_story_fold_into_a_native_disclosure() -> None:
    view = _view([_story_hit()], q=["跨境电商"])
    html = page.render(view)
    details = re.search(r'<details class="story">(.*?)</details>', html, re.S)
    assert details is not None
    assert "<summary>2 more from other outlets</summary>" in details.group(1)
    assert "同一报道（转载）" in details.group(1) and "证券时报" in details.group(1)
    assert HOSTILE not in html and "javascript:" not in html  # escaped; an unsafe link falls back to the JSON
    links = _hrefs(details.group(1))
    assert "https://example.com/c2" in links and "/articles/c3" in links and "/stories/s1" in links
    every = next(link for link in links if link.startswith("/?"))
    assert parse_qs(urlsplit(every).query) == {"q": ["跨境电商"], "story": ["s1"]}


def test_a_story_of_one_outlet_says_copies_and_a_single_article_shows_nothing() -> None:
    hit = _story_hit().model_copy(
        update={
            "story": StoryGroup(
                id="s1", copies=2, more=[Copy(id="c", title="t", outlet="21世纪经济报道", url=None, published_at=None)]
            )
        }
    )
    assert "<summary>1 more copy</summary>" in page.render(_view([hit]))
    alone = Hit(id="a1", score=None, article=_article(), story=StoryGroup(id="a1", copies=1))
    assert "<details" not in page.render(_view([alone]))


def test_the_summary_counts_stories_when_copies_were_folded() -> None:
    view = _view([_story_hit()], total=3)
    result = view.result.model_copy(update={"stories": 1}) if view.result else None
    html = page.render(page.PageView(form=view.form, params=view.params, result=result, facets=view.facets))
    assert "1–1 of 1 stories (3 articles), newest first" in html


def test_one_storys_page_says_so_and_links_back_to_every_story() -> None:
    html = page.render(_view([Hit(id="a1", score=None, article=_article())], story=["s1"], q=["港交所"]))
    assert 'class="only-story"' in html and '<input type="hidden" name="story" value="s1">' in html
    back = re.search(r'<a href="([^"]*)">Show every story</a>', html)
    assert back is not None and back.group(1).replace("&amp;", "&") == "/?q=%E6%B8%AF%E4%BA%A4%E6%89%80"
