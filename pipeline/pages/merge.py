"""A raw item and its fetched page -> the raw item the normalizer gets (pure).

Ids. An item on the fetch topic carries the id of the link it came with (`link_id`, by the usual fallback
chain of `normalize.ids`: the canonical form of the link). Once its page is read, the item is keyed by
the page's own canonical URL: `<link rel=canonical>` (or og:url) when it names a page on the same site,
else the address the page was read at after redirects. That id is the key of the item on the raw topic,
the article id, the key on the articles topic and the Elasticsearch `_id`, as for every other item; so a
story reached by two links (a feed's tracking redirect, a sitemap's URL, a post mirror's source link)
is one document. A canonical URL on another site is not followed (a page cannot claim another site's
story and overwrite it); `page.link_id` keeps the link's id for tracing.

Metadata. The feed's own values win where they are good (a title with text, a date that parses and is
plausible, authors, language); the page fills the gaps (dates and authors above all). The body is the
page's article text when it has any, else the item's own content stays, with a note.
"""

from __future__ import annotations

import html
import ipaddress
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pipeline.normalize.dates import check_plausible, parse_datetime
from pipeline.normalize.html_text import inline_text
from pipeline.normalize.ids import fingerprint, id_from_url
from pipeline.normalize.urls import canonical_url
from pipeline.pages.content import PageContent
from schemas.models import PageFetch, RawItem

_SECOND_LEVEL = frozenset({"com", "co", "net", "org", "gov", "edu", "ac", "or", "ne", "go"})
_MOBILE_PREFIXES = ("www.", "m.", "wap.", "amp.")


def site_of(host: str) -> str:
    """The registrable part of a host, near enough without the public suffix list: news.sina.com.cn -> sina.com.cn."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return host
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def same_site(a: str, b: str) -> bool:
    return site_of(_host(a)) == site_of(_host(b))


def page_address(page: PageContent) -> tuple[str, str | None, list[str]]:
    """(the URL the story is known by, the accepted canonical URL or None, notes)."""
    final = canonical_url(page.final_url) or page.final_url
    if not page.canonical_url:
        return final, None, []
    declared = canonical_url(page.canonical_url, base=page.final_url)
    if declared is None:
        return final, None, [f"canonical URL {page.canonical_url[:120]!r} is not an http(s) URL: ignored"]
    if not same_site(declared, final):
        return final, None, [f"canonical URL {declared[:120]} is on another site: ignored"]
    return declared, declared, []


def _good_date(value: str | None, now: datetime) -> bool:
    if not value:
        return False
    parsed = parse_datetime(value, default=UTC)
    return parsed is not None and check_plausible(parsed, now=now) is None


def _paragraphs_html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def fold_page(item: RawItem, page: PageContent, *, status: int, fetched_at: datetime) -> RawItem:
    """The item with its article taken from `page` and re-keyed by the page's URL (see the module docstring)."""
    url, accepted, notes = page_address(page)
    notes = [*page.notes, *notes]
    content_html: str | None
    if page.paragraphs:
        content_html = _paragraphs_html(page.paragraphs)
        summary_html = item.summary_html or item.content_html
    else:
        notes.append("the page has no article text: the item's own content is kept")
        content_html, summary_html = item.content_html, item.summary_html
    title = item.title if item.title and inline_text(item.title) else page.title
    published = item.published if _good_date(item.published, fetched_at) else page.published or item.published
    updated = item.updated if _good_date(item.updated, fetched_at) else page.updated or item.updated
    if published != item.published:
        notes.append("publication date from the page")
    authors = item.authors or page.authors
    if authors and not item.authors:
        notes.append("authors from the page")
    link = canonical_url(item.url, base=item.base_url) or item.url or url
    return item.model_copy(
        update={
            "item_id": id_from_url(url),
            "url": url,
            "base_url": page.final_url,
            "title": title,
            "published": published,
            "updated": updated,
            "content_html": content_html,
            "summary_html": summary_html,
            "authors": list(authors),
            "language": item.language or page.language,
            "fetched_at": fetched_at,
            "content_hash": fingerprint(title, url, published, updated, content_html, summary_html, *authors),
            "page": PageFetch(
                link_id=item.item_id,
                requested_url=link,
                final_url=page.final_url,
                canonical_url=accepted,
                status=status,
                fetched_at=fetched_at,
                encoding=page.encoding,
                editor=page.editor,
                original_title=page.original_title,
                attribution=page.attribution,
                notes=notes,
            ),
        }
    )
