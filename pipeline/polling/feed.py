"""`type: feed`: an RSS or Atom feed over HTTP(S) (or a trusted `file:` URL), fetched conditionally."""

from __future__ import annotations

from pipeline.polling.listing import Listing, PollContext, Rejected, bounded_delay
from pipeline.sources import feed
from pipeline.sources.catalog import SourceConfig
from pipeline.state import SourceState


def list_items(source: SourceConfig, state: SourceState, context: PollContext) -> Listing:
    assert source.url is not None
    result = context.fetch(source.url, validators=None if context.force else state.validators, trusted=source.trusted)
    if result.not_modified or result.content is None:
        return Listing(
            state=state.model_copy(update={"min_interval_s": bounded_delay(result.max_age_s)}), not_modified=True
        )
    parsed = feed.parse(
        result.content,
        source.info(),
        fetched_at=context.now,
        base_url=result.url,
        validators=result.validators,
        max_items=context.max_items,
        max_item_bytes=context.max_item_bytes,
    )
    rejected = [
        Rejected(
            where=f"entry #{skip.position}",
            error_type="invalid_entry",
            reason=skip.reason,
            payload=skip.model_dump_json(),
            details={"url": source.url, "position": skip.position},
        )
        for skip in parsed.skipped
    ]
    interval = max(filter(None, [result.max_age_s, (parsed.ttl or 0) * 60]), default=None)
    return Listing(
        state=state.model_copy(update={"validators": result.validators, "min_interval_s": bounded_delay(interval)}),
        items=list(parsed.items),
        rejected=rejected,
        fetched=len(parsed.items),
        read=len(parsed.items) + len(parsed.skipped),
        deferred=parsed.dropped,
    )
