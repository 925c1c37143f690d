"""The interface every source type implements: `list_items(source, state, context) -> Listing`.

A lister reads its source (through the fetch client or adapter it is given), turns what it read into
raw items with the type's pure parser, and says what it would remember if those items reach Kafka.
It never pushes, never saves state and never decides what is unchanged by content: `pipeline.poll`
compares every item with the content hash last pushed, sends, waits for Kafka's acks, and only then
saves `Listing.state`. A lister may skip what it knows is unchanged without reading it (a file with
the same size and mtime, a git blob already read) and counts those in `Listing.unchanged`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from pipeline.config import Settings
from pipeline.sources.catalog import SourceConfig
from pipeline.sources.fetch import PUBLIC_ONLY, AddressPolicy, FetchResult
from pipeline.state import SourceState
from schemas.models import RawItem, Validators

# A source may ask to be polled less often (ttl, max-age, Retry-After), but never for longer than this.
MAX_SOURCE_DELAY_S = 6 * 3600


def bounded_delay(seconds: int | None) -> int | None:
    return min(seconds, MAX_SOURCE_DELAY_S) if seconds else None


class Fetcher(Protocol):
    """The HTTP client, with the poll's limits and address policy already applied."""

    def __call__(self, url: str, *, validators: Validators | None, trusted: bool) -> FetchResult: ...


@dataclass(frozen=True)
class PollContext:
    """What a lister may use: settings (caps, timeouts), the clock, the fetch client, where to keep files."""

    settings: Settings
    now: datetime
    fetch: Fetcher
    force: bool = False
    policy: AddressPolicy = PUBLIC_ONLY
    started: float = field(default_factory=time.monotonic)

    @property
    def max_items(self) -> int:
        return self.settings.max_items_per_poll

    @property
    def max_item_bytes(self) -> int:
        return self.settings.max_item_bytes

    def out_of_time(self) -> bool:
        """True once the poll has run for `max_poll_seconds`: read no more, defer the rest."""
        return time.monotonic() - self.started > self.settings.max_poll_seconds

    def work_dir(self, kind: str) -> Path:
        """A folder under the state dir where a source type keeps its files (a git clone, say)."""
        return self.settings.state_dir / kind


@dataclass(frozen=True)
class Rejected:
    """Something the source listed that cannot become an item: it becomes a dead letter with `reason`."""

    where: str  # how the poll report names it: "entry #3", a file name
    error_type: str
    reason: str
    payload: bytes | str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Listing:
    """What one look at a source found, and the state to save once the items are acknowledged.

    `state` carries what the type remembers (validators, file stamps, a cursor); `pushed` and the
    health fields are the poll's and are set there. `fetched` counts what the source listed this
    time, read or known unchanged; `deferred` what the caps left for the next poll.
    """

    state: SourceState
    items: list[RawItem] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    fetched: int = 0
    read: int = 0  # entries or files actually read and parsed (the rest were known unchanged)
    unchanged: int = 0
    deferred: int = 0
    deleted: list[str] = field(default_factory=list)  # posts gone from the source (logged; kept in the index)
    not_modified: bool = False


ListItems = Callable[[SourceConfig, SourceState, PollContext], Listing]
