"""Story grouping for a batch of articles: fingerprints (pure), the shared state (store calls), the
decisions (pure), in the order `pipeline.stories.assign` explains. The normalize worker calls `assign`
once per batch and puts each decision's story id on the article it emits.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from pipeline.errors import RetryableError
from pipeline.stories import sketch
from pipeline.stories.assign import CANDIDATES, Decision, Record, candidates_among, first_pass, recheck
from pipeline.stories.sketch import Fingerprint
from pipeline.stories.store import MAX_MEMBERS, Created, StoryStore
from schemas.models import Article

CJK_LANGUAGES = frozenset({"zh", "ja", "ko"})
RECHECK_RETRIED = timedelta(minutes=10)  # a founder written this recently (a batch retried) is rechecked too
CLOCK_SKEW = timedelta(minutes=1)  # records written this long before a founder count as concurrent with it
STORY_WRITE_ATTEMPTS = 5


class Store(Protocol):  # what grouping needs of `StoryStore` (the real one, against Elasticsearch)
    def records(self, article_ids: Any) -> dict[str, Record]: ...
    def candidates(
        self,
        fingerprints: Sequence[Fingerprint],
        window: timedelta,
        *,
        written_since: datetime | None = None,
        not_writer: str | None = None,
    ) -> dict[str, list[Record]]: ...
    def pool(self, fingerprints: Sequence[Fingerprint], window: timedelta) -> list[Record] | None: ...
    def create(
        self,
        decided: Sequence[tuple[Fingerprint, str]],
        written_at: datetime,
        writer: str = "",
        batch: str | None = None,
    ) -> Created: ...
    def recent(
        self, fingerprints: Sequence[Fingerprint], window: timedelta, *, written_since: datetime, not_writer: str
    ) -> list[Record] | None: ...
    def settle(self, seq_no: int) -> None: ...
    def roots(self, story_ids: Any) -> dict[str, Record]: ...
    def move(
        self, records: Sequence[Record], stories: Mapping[str, str], written_at: datetime
    ) -> dict[str, Record]: ...
    def checked(self, batches: Any) -> set[str]: ...
    def mark_checked(self, batches: Any, at: datetime) -> None: ...
    def stories(self, story_ids: Any) -> dict[str, tuple[dict[str, Any], int, int]]: ...
    def write_stories(self, documents: Mapping[str, tuple[dict[str, Any], int | None, int | None]]) -> list[str]: ...


def _cjk(language: str) -> bool | None:
    """How an article's text is read: by characters (Chinese, Japanese, Korean), by words, or as its
    characters say (language undetermined)."""
    return True if language in CJK_LANGUAGES else (None if language == "und" else False)


def article_text(article: Article) -> sketch.Text:
    """What an article's fingerprint is made of: its title and text, at its publication time (else its fetch
    time); read by characters when its language is Chinese, Japanese or Korean."""
    return sketch.Text(
        article.id, article.title, article.body_text, article.published_at or article.fetched_at, _cjk(article.language)
    )


def article_fingerprints(articles: Sequence[Article]) -> list[Fingerprint]:
    """The fingerprints of a batch of articles (`article_text`'s parts, handed over as they are)."""
    fingerprint = sketch.fingerprint
    return [
        fingerprint(a.id, a.title, a.body_text, a.published_at or a.fetched_at, cjk=_cjk(a.language)) for a in articles
    ]


def article_fingerprint(article: Article) -> Fingerprint:
    return article_fingerprints([article])[0]


@dataclass
class Outcome:
    """The final decision per article id, and what happened on the way (for logs and the benchmark)."""

    decisions: dict[str, Decision]
    fingerprints: dict[str, Fingerprint] = field(default_factory=dict)
    moved: int = 0  # founders that joined an earlier story on the recheck


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StoryGrouping:
    """Assigns stories to batches of articles against a store; `clock` gives the time records are written."""

    def __init__(
        self,
        store: Store,
        window: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.window = window
        self.clock = clock
        self.writer = uuid.uuid4().hex  # this grouping's records; its earlier batches were visible to its searches
        self._batches = 0

    def assign(self, articles: Sequence[Article]) -> Outcome:
        started = self.clock()
        self._batches += 1
        batch_token = f"{self.writer}.{self._batches}"
        fps = {fp.article_id: fp for fp in article_fingerprints(articles)}
        batch = list(fps.values())
        known = self.store.records(fps)
        new = [fp for fp in batch if fp.article_id not in known]
        candidates = self._candidates(new)
        decisions = first_pass(batch, known, candidates, self.window)
        created = self.store.create(
            [(fp, decisions[fp.article_id].story_id) for fp in new], self.clock(), self.writer, batch_token
        )
        records = {**known, **created.written, **created.existing}
        for article_id, record in created.existing.items():  # another worker wrote it first: its story stands
            decisions = _renamed(decisions, decisions[article_id].story_id, record.story_id, founder=article_id)
            decisions[article_id] = Decision(record.story_id, "known")
        moved = self._recheck(batch, decisions, records, started, batch_token)
        self._update_stories(fps, decisions, records)
        return Outcome(decisions, fps, moved)

    def _candidates(self, new: Sequence[Fingerprint]) -> Mapping[str, Sequence[Record]]:
        """Per new article, the stored records to verify: from one search for the whole batch, ranked here;
        from a scored query per article when that search finds too many."""
        if not new:
            return {}
        pool = self.store.pool(new, self.window)
        if pool is None:
            return self.store.candidates(new, self.window)
        return candidates_among(new, pool, self.window, limit=CANDIDATES)

    def _recheck(
        self,
        batch: Sequence[Fingerprint],
        decisions: dict[str, Decision],
        records: dict[str, Record],
        started: datetime,
        token: str,
    ) -> int:
        """The records this batch wrote, and those of a recent batch that did not finish its recheck (a batch
        retried after a failure), look again once every write before theirs is visible: at records other
        workers wrote since shortly before (this worker's earlier batches were visible to its first pass).
        Those batches are then marked checked: a replay finds them so and keeps their stories."""
        recent = started - RECHECK_RETRIED
        ours: list[Record] = []
        earlier: list[Record] = []
        for fp in batch:
            record = records.get(fp.article_id)
            if record is None or record.order is None or record.batch is None:
                continue  # a record older than the batch marks was rechecked when it was written
            if record.batch == token:
                ours.append(record)
            elif record.written_at is not None and record.written_at >= recent:
                earlier.append(record)
        unfinished = {r.batch for r in earlier if r.batch} - self.store.checked({r.batch for r in earlier if r.batch})
        written = ours + [record for record in earlier if record.batch in unfinished]
        if not written:
            return 0
        moved = self._moves(written, decisions, records)
        self.store.mark_checked(unfinished | {token} if ours else unfinished, self.clock())
        return moved

    def _moves(self, written: list[Record], decisions: dict[str, Decision], records: dict[str, Record]) -> int:
        self.store.settle(max(record.seq_no or 0 for record in written))
        since = min(r.written_at for r in written if r.written_at is not None) - CLOCK_SKEW
        fps = [r.fingerprint for r in written]
        recent = self.store.recent(fps, self.window, written_since=since, not_writer=self.writer)
        if recent is not None:  # usually none, or a few: matched here
            found = candidates_among(fps, recent, self.window)
        else:  # many other workers' records at once: the store ranks them per record
            found = self.store.candidates(fps, self.window, written_since=since, not_writer=self.writer)
        known_roots = {r.article_id: r for r in written if r.is_root}  # a founder is its own story's root
        wanted = ({r.story_id for rs in found.values() for r in rs} | {r.story_id for r in written}) - set(known_roots)
        roots = {**known_roots, **(self.store.roots(wanted) if wanted else {})}
        moves = recheck(written, found, roots, self.window)
        if not moves:
            return 0
        founders = {article_id: move.story_id for article_id, move in moves.items() if records[article_id].is_root}
        to_move: list[Record] = []
        stories: dict[str, str] = {}
        for record in records.values():
            move = moves.get(record.article_id)
            new_story = move.story_id if move else founders.get(record.story_id)  # a moved founder's joiners follow
            if new_story is not None and record.article_id in decisions:
                to_move.append(record)
                stories[record.article_id] = new_story
        now = self.store.move(to_move, stories, self.clock())
        for article_id, record in now.items():
            records[article_id] = record
            move = moves.get(article_id)
            how = move.reason.value if move else decisions[article_id].how
            matched = move.matched if move else decisions[article_id].matched
            decisions[article_id] = Decision(record.story_id, how, matched)
        return len(moves)

    def _update_stories(
        self, fps: Mapping[str, Fingerprint], decisions: Mapping[str, Decision], records: Mapping[str, Record]
    ) -> None:
        """Story documents (size, first-seen article, members) for every story this batch added to."""
        members: dict[str, dict[str, datetime]] = defaultdict(dict)
        for article_id, decision in decisions.items():
            members[decision.story_id][article_id] = fps[article_id].at
        touched = {story: ids for story, ids in members.items() if len(ids) > 1 or story not in ids}
        if not touched:
            return
        founders: dict[str, datetime] = {}
        missing = [story for story in touched if story not in records and story not in fps]
        found = self.store.records(missing) if missing else {}
        for story in touched:
            record = records.get(story) or found.get(story)
            if record is not None:
                founders[story] = record.fingerprint.at
            elif story in fps:
                founders[story] = fps[story].at
        pending = dict(touched)
        for _ in range(STORY_WRITE_ATTEMPTS):
            current = self.store.stories(pending)
            documents: dict[str, tuple[dict[str, Any], int | None, int | None]] = {}
            for story, new in pending.items():
                existing = current.get(story)
                source = merged_story(story, existing[0] if existing else None, new, founders.get(story), self.clock())
                if source is not None:
                    documents[story] = (source, *(existing[1:] if existing else (None, None)))
            conflicts = self.store.write_stories(documents)
            if not conflicts:
                return
            pending = {story: pending[story] for story in conflicts}
        raise RetryableError(f"story grouping: stories {sorted(pending)[:5]} kept changing while being updated")


def merged_story(
    story_id: str,
    existing: Mapping[str, Any] | None,
    new: Mapping[str, datetime],
    founder_at: datetime | None,
    now: datetime,
) -> dict[str, Any] | None:
    """The story document with `new` members added (None when that changes nothing). Pure."""
    members = list(existing["members"]) if existing else []
    seen = set(members)
    added = {article_id: at for article_id, at in new.items() if article_id not in seen}
    if existing is None and story_id not in added and founder_at is not None:
        added = {story_id: founder_at, **added}
    if not added:
        return None
    size = int(existing["size"]) if existing else 0
    firsts = [(at, article_id) for article_id, at in added.items()]
    lasts = [at for at in added.values()]
    if existing:
        firsts.append(
            (datetime.fromisoformat(existing["first_seen_at"].replace("Z", "+00:00")), existing["first_seen_id"])
        )
        lasts.append(datetime.fromisoformat(existing["last_seen_at"].replace("Z", "+00:00")))
    first_at, first_id = min(firsts)
    room = max(MAX_MEMBERS - len(members), 0)
    listed = sorted(added)
    return {
        "story_id": story_id,
        "size": size + len(added),
        "first_seen_id": first_id,
        "first_seen_at": _iso(first_at),
        "last_seen_at": _iso(max(lasts)),
        "members": members + listed[:room],
        "updated_at": _iso(now),
    }


def _renamed(decisions: dict[str, Decision], old: str, new: str, *, founder: str) -> dict[str, Decision]:
    """Decisions with the batch's joiners of `founder`'s story `old` pointed at `new` instead."""
    if old == new or old != founder:
        return decisions
    return {
        article_id: Decision(new, d.how, d.matched) if d.story_id == old else d for article_id, d in decisions.items()
    }


__all__ = ["Outcome", "StoryGrouping", "StoryStore", "article_fingerprint", "article_fingerprints", "merged_story"]
