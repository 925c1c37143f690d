"""Metadata of a news page: what its `<head>`, JSON-LD and visible date and author lines say.

Sources, first found wins unless said otherwise:
- title: `og:title`, JSON-LD `headline`, `twitter:title`, the `<h1>` that the `<title>` contains, the
  `<title>` without its site suffix (`一季度…增长-新华网`, `…|跨境电商_新浪财经_新浪网`: the longest part) unless
  it names only the site (then the first `<h1>`), the first `<h1>`.
- published / updated: JSON-LD `datePublished` / `dateModified` (NewsArticle and its kin, also inside
  `@graph`), `article:published_time` / `article:modified_time` and their kin, `itemprop`, `<time datetime>`,
  then a date line near the title (`2022-05-05 10:39 来源：21世纪经济报道`, `2022年05月05日 10:39`); a date
  with a time beats a date alone. A date without a zone is read in the zone of the page's language.
- authors: JSON-LD `author`, `<meta name=author>`, `article:author`, `itemprop=author`, byline and `作者：`
  lines; organisations (a name ending in 网, 报, 社, 报道, News …) give way to people when both are named.
- canonical URL: `<link rel=canonical>`, then `og:url`, resolved against the page URL and normalized;
  a canonical that is only a site's home page is ignored (a common template mistake).
- site name: `og:site_name`, JSON-LD `publisher`, `application-name`, the `<title>`'s last part.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

from pipeline.extract.content import weight
from pipeline.normalize.dates import default_zone, parse_datetime
from pipeline.normalize.html_text import inline_text
from pipeline.normalize.urls import canonical_url

MAX_JSON_LD_CHARS = 500_000
MAX_JSON_LD_NODES = 2_000
MAX_META = 500

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "blogposting",
        "liveblogposting",
        "socialmediaposting",
        "techarticle",
        "scholarlyarticle",
        "report",
    }
)
_TITLE_SEPARATOR = re.compile(r"\s+[-|–—·:：»]\s+|\s*[|｜_]\s*|(?<=[^\x00-\x7f])\s*[-–—]\s*(?=[^\x00-\x7f])")
_ZONE_SUFFIX = re.compile(r"\d:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|[+-]\d{2})$")
_TEXT_DATE = re.compile(
    r"(?P<year>(?:19|20)\d{2})\s*[-/.年]?\s*(?P<month>[01]?\d)\s*[-/.月]\s*(?P<day>[0-3]?\d)\s*日?"
    r"(?:\s*(?P<hour>[0-2]?\d)\s*[:：时]\s*(?P<minute>[0-5]\d)(?:\s*[:：分]\s*(?P<second>[0-5]\d))?)?"
)
_AUTHOR_LINE = re.compile(
    r"(?:作者|记者)\s*[:：]\s*(?P<names>[\u4e00-\u9fff·]{2,4}(?:[、，,\s][\u4e00-\u9fff·]{2,4}){0,4})"
)
_CJK_NAME = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_ORGANISATION = re.compile(
    r"(?:网|报|社|台|报道|新闻|日报|时报|晚报|财经|杂志|集团|公司|中心|编辑部|"
    r"News|NEWS|Press|Wire|Media|Times|Post|Staff|Reuters|Associated Press)$"
)
_DATE_PROPERTIES_PUBLISHED = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "datepublished",
    "publishdate",
    "publish-date",
    "pubdate",
    "publication_date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "date",
    "og:published_time",
    "weibo: article:create_at",
)
_DATE_PROPERTIES_UPDATED = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
)


@dataclass
class JsonLd:
    headline: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    site: str | None = None
    language: str | None = None
    description: str | None = None
    url: str | None = None


@dataclass
class HeadMeta:
    values: dict[str, list[str]]
    links: dict[str, str]  # rel -> href (first)
    json_ld: JsonLd
    lang: str | None
    title_tag: str | None
    times: list[str]  # <time datetime> values in document order

    def first(self, *names: str) -> str | None:
        for name in names:
            for value in self.values.get(name, ()):
                if value:
                    return value
        return None


def read_head(tree: LexborHTMLParser) -> HeadMeta:
    values: dict[str, list[str]] = {}
    for node in tree.css("meta")[:MAX_META]:
        attributes = node.attributes
        key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop")
        key = key or attributes.get("http-equiv")
        content = attributes.get("content")
        if key and content and len(content) < 5_000:
            values.setdefault(key.strip().lower(), []).append(" ".join(content.split()))
    for node in tree.css("[itemprop]")[:MAX_META]:
        if node.tag == "meta":
            continue
        key = (node.attributes.get("itemprop") or "").strip().lower()
        if key in ("datepublished", "datemodified", "author", "headline"):
            attributes = node.attributes
            value = attributes.get("datetime") or attributes.get("content") or node.text(deep=True)
            if value and len(value) < 500:
                values.setdefault(key, []).append(" ".join(value.split()))
    links: dict[str, str] = {}
    for node in tree.css("link[rel][href]")[:MAX_META]:
        for rel in (node.attributes.get("rel") or "").lower().split():
            href = node.attributes.get("href")
            if href and rel not in links:
                links[rel] = href.strip()
    times = [
        value for node in tree.css("time[datetime]")[:50] if (value := (node.attributes.get("datetime") or "").strip())
    ]
    title_node = tree.css_first("title")
    title_tag = inline_text(title_node.text()) if title_node is not None else None
    html = tree.css_first("html")
    lang = html.attributes.get("lang") if html is not None else None
    return HeadMeta(values, links, _json_ld(tree), lang or None, title_tag or None, times)


def _json_ld(tree: LexborHTMLParser) -> JsonLd:
    found = JsonLd()
    for node in tree.css('script[type="application/ld+json"]')[:20]:
        text = node.text()
        if not text or len(text) > MAX_JSON_LD_CHARS:
            continue
        try:
            data = json.loads(text, strict=False)
        except (ValueError, RecursionError):
            continue
        for item in _objects(data):
            _read_ld_object(item, found)
    return found


def _objects(data: Any) -> Iterator[dict[str, Any]]:
    """JSON-LD objects at any depth (`@graph`, lists, nested), breadth first, a bounded number."""
    queue = [data]
    seen = 0
    while queue and seen < MAX_JSON_LD_NODES:
        item = queue.pop(0)
        seen += 1
        if isinstance(item, dict):
            yield item
            queue.extend(value for value in item.values() if isinstance(value, dict | list))
        elif isinstance(item, list):
            queue.extend(item[:MAX_JSON_LD_NODES])


def _types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.lower() for k in kinds if isinstance(k, str)}


def _names(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names: list[str] = []
    for entry in values[:20]:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip() and len(name) < 200:
            names.append(" ".join(name.split()))
    return names


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    if isinstance(value, dict):
        return _text(value.get("@id") or value.get("url"))
    return None


def _read_ld_object(item: dict[str, Any], found: JsonLd) -> None:
    kinds = _types(item)
    if "website" in kinds and found.site is None:
        found.site = _text(item.get("name"))
    if not kinds & _ARTICLE_TYPES:
        return
    found.headline = found.headline or _text(item.get("headline") or item.get("name"))
    found.published = found.published or _text(item.get("datePublished") or item.get("dateCreated"))
    found.modified = found.modified or _text(item.get("dateModified"))
    if not found.authors:
        found.authors = _names(item.get("author") or item.get("creator"))
    if found.publisher is None:
        publisher = _names(item.get("publisher"))
        found.publisher = publisher[0] if publisher else None
    found.language = found.language or _text(item.get("inLanguage"))
    found.description = found.description or _text(item.get("description"))
    found.url = found.url or _text(item.get("mainEntityOfPage") or item.get("url"))


# --- title -------------------------------------------------------------------------------------------


def title_parts(title: str) -> list[str]:
    return [part.strip() for part in _TITLE_SEPARATOR.split(title) if part and part.strip()]


def strip_site_suffix(title: str, site_name: str | None = None) -> str:
    """The headline of a `<title>` (`一季度…增长-新华网` -> `一季度…增长`): its longest part."""
    parts = title_parts(title)
    if len(parts) < 2:
        return title.strip()
    if site_name:
        parts = [part for part in parts if part != site_name] or parts
    return max(parts, key=len)


def choose_title(head: HeadMeta, headings: list[str]) -> tuple[str | None, str]:
    """The headline and where it came from."""
    site = site_name(head)
    for value, origin in (
        (head.first("og:title"), "og:title"),
        (head.json_ld.headline, "JSON-LD headline"),
        (head.first("twitter:title"), "twitter:title"),
        (head.first("headline"), "itemprop headline"),
    ):
        if value:
            return strip_site_suffix(inline_text(value), site), origin
    title_tag = head.title_tag
    for heading in headings:
        if title_tag and heading and heading in title_tag:
            return heading, "<h1>"
    if title_tag:
        cleaned = strip_site_suffix(title_tag, site)
        if headings and (cleaned == site or 2 * weight(cleaned) <= weight(headings[0])):
            return headings[0], "<h1> (the <title> names only the site)"
        return cleaned, "<title>"
    if headings:
        return headings[0], "<h1>"
    return None, "none"


def site_name(head: HeadMeta) -> str | None:
    name = head.first("og:site_name", "application-name", "twitter:site") or head.json_ld.publisher
    name = name or head.json_ld.site
    if name:
        return inline_text(name).lstrip("@") or None
    if head.title_tag:
        parts = title_parts(head.title_tag)
        if len(parts) >= 2 and len(parts[-1]) <= 20:
            return parts[-1]
    return None


# --- dates -------------------------------------------------------------------------------------------


def _as_iso(value: str, zone: tzinfo) -> str | None:
    """An ISO 8601 string with the page's own offset (or `zone` when the page gave none)."""
    text = value.strip()
    parsed = parse_datetime(text, default=zone)
    if parsed is None:
        return None
    suffix = _ZONE_SUFFIX.search(text)
    if suffix is not None:
        digits = suffix["zone"]
        if digits == "Z":
            offset: tzinfo = UTC
        else:
            sign = -1 if digits[0] == "-" else 1
            raw = digits[1:].replace(":", "")
            offset = timezone(sign * timedelta(hours=int(raw[:2]), minutes=int(raw[2:4] or 0)))
        local = parsed.astimezone(offset)
    else:
        local = parsed.astimezone(zone)
    if local.year < 1990:
        return None
    return local.replace(microsecond=0).isoformat()


def _has_time(value: str) -> bool:
    return bool(re.search(r"\d{1,2}:\d{2}", value)) or "T" in value


def text_date(lines: list[str], zone: tzinfo) -> tuple[str | None, bool]:
    """The first date written in visible lines (`2022年05月05日 10:39`), and whether it had a time."""
    dated: tuple[str | None, bool] = (None, False)
    for line in lines:
        if len(line) > 200:
            continue
        match = _TEXT_DATE.search(line)
        if match is None:
            continue
        parts = match.groupdict()
        try:
            moment = datetime(
                int(parts["year"]),
                int(parts["month"]),
                int(parts["day"]),
                int(parts["hour"] or 0),
                int(parts["minute"] or 0),
                int(parts["second"] or 0),
                tzinfo=zone,
            )
        except ValueError:
            continue
        if parts["hour"] is not None:
            return moment.isoformat(), True
        if dated[0] is None:
            dated = (moment.isoformat(), False)
    return dated


def choose_dates(head: HeadMeta, lines: list[str], language: str | None) -> tuple[str | None, str | None, str]:
    """(published, updated, where published came from)."""
    zone = default_zone(language)
    published: str | None = None
    origin = "none"
    date_only: str | None = None
    candidates = [(head.json_ld.published, "JSON-LD datePublished")]
    for name in _DATE_PROPERTIES_PUBLISHED:
        candidates += [(value, f"meta {name}") for value in head.values.get(name, ())]
    candidates += [(value, "<time datetime>") for value in head.times[:1]]
    for value, where in candidates:
        if not value:
            continue
        iso = _as_iso(value, zone)
        if iso is None:
            continue
        if _has_time(value):
            published, origin = iso, where
            break
        date_only = date_only or iso
    if published is None:
        found, with_time = text_date(lines, zone)
        if found and (with_time or date_only is None):
            published, origin = found, "a date line in the page"
        elif date_only:
            published, origin = date_only, "a date without a time in the metadata"
    updated: str | None = None
    for value in [head.json_ld.modified, *(v for name in _DATE_PROPERTIES_UPDATED for v in head.values.get(name, ()))]:
        if value and (updated := _as_iso(value, zone)):
            break
    return published, updated, origin


# --- authors -----------------------------------------------------------------------------------------


def _split_names(value: str) -> list[str]:
    value = re.sub(r"^(?:By|by|BY)\s*[:：]?\s+", "", value.strip())
    # Chinese names are separated by spaces too; Latin ones (Condé Nast, Anna Ūdre) are not
    separator = r"[、，,;；/\s]+" if _CJK_NAME.search(value) else r"\s*(?:,|;|&|\band\b)\s*"
    names = re.split(separator, value)
    return [name.strip() for name in names if name.strip()]


def is_organisation(name: str) -> bool:
    return bool(_ORGANISATION.search(name))


def choose_authors(head: HeadMeta, lines: list[str], byline: list[str], site: str | None) -> list[str]:
    candidates: list[str] = list(head.json_ld.authors)
    for name in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "byl"):
        for value in head.values.get(name, ()):
            if "://" not in value and len(value) < 200:
                candidates.extend(_split_names(value))
    candidates.extend(byline)
    for line in lines:
        if len(line) <= 200:
            for match in _AUTHOR_LINE.finditer(line):
                candidates.extend(_split_names(match["names"]))
    names: list[str] = []
    for name in candidates:
        name = inline_text(name)
        if name and name not in names and name != site and len(name) <= 60 and "://" not in name:
            names.append(name)
    people = [name for name in names if not is_organisation(name)]
    return people or names


# --- canonical URL and language ------------------------------------------------------------------------


def choose_canonical(head: HeadMeta, url: str) -> tuple[str | None, str]:
    page = canonical_url(url)
    page_path = urlsplit(page).path if page else ""
    for value, origin in ((head.links.get("canonical"), "<link rel=canonical>"), (head.first("og:url"), "og:url")):
        if not value:
            continue
        resolved = canonical_url(value, base=url)
        if resolved is None:
            continue
        if urlsplit(resolved).path in ("", "/") and page_path not in ("", "/"):
            return None, f"{origin} names only the home page {resolved}: ignored"
        return resolved, origin
    return None, "none declared"


def declared_language(head: HeadMeta) -> str | None:
    for value in (
        head.lang,
        head.first("content-language", "og:locale", "language", "dc.language"),
        head.json_ld.language,
    ):
        if value:
            code = value.strip().replace("_", "-").split("-")[0].lower()
            if re.fullmatch(r"[a-z]{2}", code):
                return code
    return None
