"""The search page at `/`: plain server-rendered HTML, no scripts.

Keyboard and screen readers first: native controls only, each with a label; a skip link to the
results; facet values of the matching stories as links (a selected value links to its removal);
times in the newsroom's zone with their offset, in `<time>` elements.

Pure: a `PageView` in, a string out. Every value from the index or the request goes through `_e`
(HTML escaping) or is a highlight already made safe by `queries.safe_highlight`; links to articles
are only ever http(s). The page is served with a Content-Security-Policy that forbids scripts.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlencode, urlsplit

from pipeline.api.models import Facets, FacetValue, Hit, SearchResult, StoryGroup
from pipeline.api.queries import FACET_FIELDS, SearchParams

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_LINKS_AROUND = 2
_LANGUAGE = re.compile(r"[a-z]{2,3}")

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB","Microsoft YaHei",
"Noto Sans CJK SC","Noto Sans SC",sans-serif;margin:0 auto;max-width:60rem;padding:1rem;line-height:1.6;color:#222}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h1 a{color:inherit;text-decoration:none}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:1rem}
label{display:flex;flex-direction:column;font-size:.8rem;color:#555}
input,select,button{font:inherit;padding:.3rem}input[type=search]{min-width:18rem}
.summary{color:#555}.error{background:#fde8e8;border:1px solid #e0a0a0;padding:.5rem}
ol.hits{list-style:none;padding:0}.hit{margin:0 0 1.2rem}.hit h2{font-size:1.1rem;margin:0}
.meta,.tags{font-size:.85rem;color:#666;margin:.1rem 0}.snippet{margin:.2rem 0}
mark{background:#fff3a3}.tags a{margin-right:.5rem}
details.story{font-size:.9rem;margin:.2rem 0}details.story summary{cursor:pointer;color:#1a4f8b}
details.story ul{margin:.3rem 0;padding-left:1.2rem}.copy-meta{color:#666;font-size:.85rem}
.only-story{background:#eef4fb;border:1px solid #c5d7ee;padding:.4rem .6rem}
nav.pages a,nav.pages strong{margin-right:.5rem}
footer{margin-top:2rem;font-size:.8rem;color:#777}
.skip{position:absolute;left:-999rem}.skip:focus{position:static}
a:focus-visible,input:focus-visible,select:focus-visible,button:focus-visible{outline:3px solid #1a5fb4;
outline-offset:2px}
aside.facets{display:flex;flex-wrap:wrap;gap:.3rem 1.5rem;font-size:.85rem;margin:0 0 1rem}
aside.facets section{min-width:8rem}aside.facets h2{font-size:.85rem;margin:0;color:#555}
aside.facets ul{list-style:none;margin:0;padding:0}aside.facets .count{color:#777}
"""
FACET_LABELS = {"outlet": "Outlet", "category": "Category", "tag": "Tag", "ticker": "Ticker"}
ADDITIVE_FACETS = frozenset({"tag"})  # every tag must match: a tag link adds one; other links choose one value


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A time as the newsroom reads it: `2022-05-05 10:39 +08:00` (minutes, with the zone's offset)."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


@dataclass(frozen=True)
class PageView:
    """What one rendering of the page shows. `form` holds the raw request values, to refill the form."""

    form: Mapping[str, Sequence[str]] = field(default_factory=dict)
    params: SearchParams | None = None
    result: SearchResult | None = None
    facets: Facets | None = None  # every value of the index, for the filter lists
    matching: Facets | None = None  # the most frequent values among the matching stories, as links
    error: str | None = None
    zone: tzinfo = UTC  # the newsroom's: times are shown in it, `from`/`to` are its days

    def first(self, name: str) -> str:
        values = self.form.get(name) or [""]
        return values[0]


def search_url(params: SearchParams, *, page: int | None = None, **changes: str | Sequence[str]) -> str:
    """A link to `/` with these parameters; `changes` replace whole parameters (tag=…, or tag=[…, …]; an
    empty string drops one: story="")."""
    items = [(k, v) for k, v in params.query_items(page=page) if k not in changes]
    for name, value in changes.items():
        if isinstance(value, str):
            items += [(name, value)] if value else []
        else:
            items += [(name, v) for v in value]
    return "/?" + urlencode(items) if items else "/"


def _safe_href(url: str | None) -> str | None:
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in ("http", "https") else None


def _select(name: str, label: str, options: Sequence[FacetValue], chosen: Sequence[str]) -> str:
    known = {option.value for option in options}
    rows = [f'<option value="">{_e("all")}</option>']
    rows += [f'<option value="{_e(value)}" selected>{_e(value)}</option>' for value in chosen if value not in known]
    for option in options:
        selected = " selected" if option.value in chosen else ""
        rows.append(f'<option value="{_e(option.value)}"{selected}>{_e(option.value)} ({option.count})</option>')
    return f'<label>{_e(label)}<select name="{name}">{"".join(rows)}</select></label>'


def _form(view: PageView) -> str:
    facets = view.facets or Facets(outlet=[], category=[], tag=[])
    size = view.first("size")
    zone = getattr(view.zone, "key", None) or str(view.zone)
    return (
        '<form method="get" action="/" role="search">'
        f'<label>Search<input type="search" name="q" value="{_e(view.first("q"))}" '
        'placeholder="e.g. 跨境电商" autofocus></label>'
        + _select("outlet", "Outlet", facets.outlet, view.form.get("outlet", []))
        + _select("category", "Category", facets.category, view.form.get("category", []))
        + _select("tag", "Tag", facets.tag, view.form.get("tag", []))
        + _select("ticker", "Ticker", facets.ticker, view.form.get("ticker", []))
        + f'<label>From ({_e(zone)})<input type="date" name="from" value="{_e(view.first("from"))}"></label>'
        f'<label>To ({_e(zone)})<input type="date" name="to" value="{_e(view.first("to"))}"></label>'
        + (f'<input type="hidden" name="size" value="{_e(size)}">' if size else "")
        + (f'<input type="hidden" name="story" value="{_e(view.first("story"))}">' if view.first("story") else "")
        + "<button type=submit>Search</button></form>"
    )


def _chosen(params: SearchParams, name: str) -> list[str]:
    values: list[str] = getattr(params, name, [])
    return values


def _facet_item(params: SearchParams, name: str, option: FacetValue) -> str:
    chosen = _chosen(params, name)
    label = FACET_LABELS.get(name, name)
    if option.value in chosen:
        rest = [value for value in chosen if value != option.value]
        remove = search_url(params, page=1, **{name: rest})
        return (
            f'<li><strong aria-current="true">{_e(option.value)}</strong> <span class="count">{option.count}</span> '
            f'<a href="{_e(remove)}" aria-label="{_e(f"Remove the {label.lower()} filter {option.value}")}">×</a></li>'
        )
    narrowed = [*chosen, option.value] if name in ADDITIVE_FACETS else [option.value]
    href = search_url(params, page=1, **{name: narrowed})
    return (
        f'<li><a href="{_e(href)}" aria-label="{_e(f"{label} {option.value}, {option.count} articles")}">'
        f'{_e(option.value)}</a> <span class="count" aria-hidden="true">{option.count}</span></li>'
    )


def _facet_links(view: PageView) -> str:
    """The values of each facet among the matching stories, as links that narrow the results."""
    params, matching = view.params, view.matching
    if params is None or matching is None:
        return ""
    sections: list[str] = []
    for name in FACET_FIELDS:
        options: list[FacetValue] = getattr(matching, name, [])
        if not options:
            continue
        heading = f"facet-{name}"
        items = "".join(_facet_item(params, name, option) for option in options)
        sections.append(
            f'<section aria-labelledby="{heading}"><h2 id="{heading}">{_e(FACET_LABELS.get(name, name))}</h2>'
            f"<ul>{items}</ul></section>"
        )
    return f'<aside class="facets" aria-label="Narrow the results">{"".join(sections)}</aside>' if sections else ""


def _story(story: StoryGroup | None, outlet: str, params: SearchParams, zone: tzinfo) -> str:
    """The other copies of a hit's story, folded: a native disclosure (keyboard and screen reader friendly)."""
    if story is None or story.copies <= 1:
        return ""
    more = story.copies - 1
    elsewhere = any(copy.outlet != outlet for copy in story.more)
    label = f"{more} more from other outlets" if elsewhere else f"{more} more {'copy' if more == 1 else 'copies'}"
    rows = []
    for copy in story.more:
        href = _safe_href(copy.url) or f"/articles/{copy.id}"
        when = local_time(copy.published_at, zone) if copy.published_at else "undated"
        rows.append(
            f'<li><a href="{_e(href)}">{_e(copy.title)}</a> '
            f'<span class="copy-meta">{_e(copy.outlet)} · {_e(when)}</span></li>'
        )
    every = search_url(params, page=1, story=story.id)
    return (
        f'<details class="story"><summary>{_e(label)}</summary><ul>{"".join(rows)}</ul>'
        f'<p><a href="{_e(every)}">All {story.copies} matching copies of this story</a> · '
        f'<a href="/stories/{_e(story.id)}">story JSON</a></p></details>'
    )


def _hit(hit: Hit, params: SearchParams, zone: tzinfo) -> str:
    article = hit.article
    title = (hit.highlights.get("title") or [_e(article.title)])[0]
    href = _safe_href(article.url) or f"/articles/{_e(article.id)}"
    fragments = hit.highlights.get("body_text") or hit.highlights.get("summary") or [_e(article.summary)]
    when = (
        f'<time datetime="{_e(article.published_at.astimezone(zone).isoformat())}">'
        f"{_e(local_time(article.published_at, zone))}</time>"
        if article.published_at
        else "undated"
    )
    lang = f' lang="{article.language}"' if _LANGUAGE.fullmatch(article.language) else ""
    tags = "".join(f'<a href="{_e(search_url(params, page=1, tag=tag))}">#{_e(tag)}</a>' for tag in article.tags)
    tags += "".join(
        f'<a href="{_e(search_url(params, page=1, ticker=code))}" class="ticker">{_e(code)}</a>'
        for code in article.tickers
    )
    return (
        f'<li class="hit"{lang}><h2><a href="{_e(href)}">{title}</a></h2>'
        f'<p class="meta">{_e(article.outlet)} · {_e(article.category)} · {when} · '
        f'<a href="/articles/{_e(article.id)}">JSON</a></p>'
        f'<p class="snippet">{" … ".join(fragments)}</p>'
        + (f'<p class="tags">{tags}</p>' if tags else "")
        + _story(hit.story, article.outlet, params, zone)
        + "</li>"
    )


def _pages(result: SearchResult, params: SearchParams) -> str:
    if result.pages <= 1:
        return ""
    current = result.page
    shown = sorted({1, result.pages, *range(current - PAGE_LINKS_AROUND, current + PAGE_LINKS_AROUND + 1)})
    links: list[str] = []
    if current > 1:
        links.append(f'<a href="{_e(search_url(params, page=current - 1))}" rel="prev">‹ Previous</a>')
    previous = 0
    for number in (n for n in shown if 1 <= n <= result.pages):
        if number - previous > 1:
            links.append("<span>…</span>")
        links.append(
            f"<strong>{number}</strong>"
            if number == current
            else f'<a href="{_e(search_url(params, page=number))}">{number}</a>'
        )
        previous = number
    if current < result.pages:
        links.append(f'<a href="{_e(search_url(params, page=current + 1))}" rel="next">Next ›</a>')
    return f'<nav class="pages" aria-label="pages">{"".join(links)}</nav>'


def _results(view: PageView) -> str:
    result, params = view.result, view.params
    if result is None or params is None:
        return ""
    if result.total == 0:
        return '<p class="summary" id="results" tabindex="-1">No articles match.</p>'
    first = (result.page - 1) * result.size + 1
    last = first + len(result.hits) - 1
    order = "most relevant first" if result.query else "newest first"
    counted = f"{result.total} articles"
    if result.stories is not None and result.stories != result.total:
        counted = f"{result.stories} stories ({result.total} articles)"
    summary = f"{first}–{last} of {counted}, {order}" if result.hits else counted
    hits = "".join(_hit(hit, params, view.zone) for hit in result.hits)
    only = ""
    if params.story:
        everything = search_url(params, page=1, story="")
        only = (
            f'<p class="only-story">The copies of one story, one hit each. '
            f'<a href="{_e(everything)}">Show every story</a></p>'
        )
    return (
        f'{only}<p class="summary" id="results" tabindex="-1">{_e(summary)}</p>'
        f'<ol class="hits" aria-label="Results">{hits}</ol>{_pages(result, params)}'
    )


def render(view: PageView) -> str:
    title = f"{view.first('q')} – newsflow search" if view.first("q") else "newsflow search"
    error = f'<p class="error" role="alert">{_e(view.error)}</p>' if view.error else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        + ('<a class="skip" href="#results">Skip to the results</a>' if view.result and view.result.total else "")
        + '<header><h1><a href="/">newsflow search</a></h1></header><main>'
        + _form(view)
        + error
        + _facet_links(view)
        + _results(view)
        + '</main><footer>API: <a href="/docs">/docs</a> · <a href="/healthz">/healthz</a></footer></body></html>\n'
    )
