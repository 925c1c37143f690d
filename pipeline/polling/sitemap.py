"""`type: sitemap`: a sitemap, a sitemap index (nested up to `sitemap_max_depth`), gzip or not, news or not.

Every listed page becomes an item without content, which the poll sends to the fetch stage. Only pages
that are new, or whose `lastmod` (or news metadata) changed since they were last pushed, go on: the
poll compares each item's content hash (link, lastmod, news title, date, keywords) with the one last
pushed. A sitemap of an index whose `lastmod` has not moved since all its pages were listed is not
read again. One poll reads at most `sitemap_max_files` sitemap files and sends at most
`sitemap_max_urls` pages (new ones first, in the sitemap's order); the rest waits for the next poll.
A child sitemap that is refused (404, malformed, hostile) is a dead letter and the others go on; one
that fails transiently is read at the next poll.
"""

from __future__ import annotations

import logging
from collections import deque

from pipeline.errors import ParseError
from pipeline.normalize.urls import canonical_url
from pipeline.polling.listing import Listing, PollContext, Rejected, bounded_delay
from pipeline.sources import sitemap
from pipeline.sources.catalog import SourceConfig
from pipeline.sources.fetch import FetchError, FetchRetryable
from pipeline.state import SourceState

log = logging.getLogger("newsflow.poll")


def list_items(source: SourceConfig, state: SourceState, context: PollContext) -> Listing:
    assert source.url is not None
    settings = context.settings
    root = context.fetch(source.url, validators=None if context.force else state.validators, trusted=source.trusted)
    if root.not_modified or root.content is None:
        return Listing(
            state=state.model_copy(update={"min_interval_s": bounded_delay(root.max_age_s)}), not_modified=True
        )
    listing = Listing(state=state)
    known: dict[str, str] = dict(state.cursor.get("sitemaps") or {})  # sitemap -> lastmod, all its pages listed
    seen_maps = dict(known)
    queue: deque[tuple[str, bytes | None, int]] = deque([(root.url, root.content, 1)])
    files = 0
    room = settings.sitemap_max_urls
    complete = True
    while queue:
        url, content, depth = queue.popleft()
        files += 1
        try:
            if content is None:
                content = context.fetch(url, validators=None, trusted=source.trusted).content or b""
            parsed = sitemap.parse(content, max_bytes=settings.max_feed_bytes)
        except (FetchError, ParseError) as exc:
            if url == root.url:
                raise
            listing.rejected.append(Rejected(url, type(exc).__name__, str(exc), url, {"sitemap": url}))
            continue
        except FetchRetryable as exc:
            if url == root.url:
                raise
            log.warning("sitemap %s not read this time: %s", url, exc, extra={"source_id": source.id})
            complete = False
            continue
        if parsed.kind == "index":
            for ref in parsed.sitemaps:
                child = canonical_url(ref.loc, base=url)
                if child is None:
                    continue
                if depth >= settings.sitemap_max_depth:
                    listing.rejected.append(
                        Rejected(child, "too_deep", f"sitemap index nested deeper than {depth} levels", child)
                    )
                    continue
                if not context.force and not sitemap.is_newer(ref.lastmod, seen_maps.get(child)):
                    continue  # unchanged since all its pages were listed
                if files + len(queue) >= settings.sitemap_max_files:
                    listing.deferred += 1
                    complete = False
                    continue
                queue.append((child, None, depth + 1))
                if ref.lastmod:
                    seen_maps[child] = ref.lastmod  # kept only if this poll lists all its pages (below)
            continue
        room = _pages(source, state, context, parsed, url, listing, room)
        if room < 0:
            complete = False
    if not complete:
        seen_maps = {k: v for k, v in seen_maps.items() if known.get(k) == v}
    listing.state = state.model_copy(
        update={
            "validators": root.validators if complete else state.validators,
            "cursor": {**state.cursor, "sitemaps": seen_maps},
            "min_interval_s": bounded_delay(root.max_age_s),
        }
    )
    return listing


def _pages(
    source: SourceConfig,
    state: SourceState,
    context: PollContext,
    parsed: sitemap.Sitemap,
    base: str,
    listing: Listing,
    room: int,
) -> int:
    """Add the new or changed pages of a url set within `room`; the room left (negative once pages were left)."""
    info = source.info()
    left = False
    for entry in parsed.pages:
        item = sitemap.entry_item(entry, info, fetched_at=context.now, base_url=base)
        if item is None:
            continue
        listing.fetched += 1
        if not context.force and state.pushed.get(item.item_id) == item.content_hash:
            listing.unchanged += 1
            continue
        if room <= 0:
            listing.deferred += 1
            left = True
            continue
        listing.items.append(item)
        room -= 1
    return -1 if left else room
