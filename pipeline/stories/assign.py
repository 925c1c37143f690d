"""Which story each article of a batch belongs to, from what the shared state holds. Pure.

The shared state (`pipeline.stories.store`) keeps one *record* per article: its fingerprint and its
story. A story's id is the id of the article that founded it; the founder's record is the story's
root. The normalize worker assigns a batch in two passes:

1. `first_pass`: an article that already has a record keeps its story (redelivery, replay: the same
   answer every time). Every other article is compared with its candidates (records sharing LSH keys,
   the earliest written first, then the batch's own earlier articles, most shared keys first); it joins
   the story of the first candidate that verifies (`match.same_story`), or founds a story of its own.
2. The new records are written (create-only); once every write before them is processed (the shard's
   checkpoint has reached them) the index is refreshed, and `recheck` looks again: a copy normalized at
   the same moment by another worker was invisible to the first pass. Of two such stories, the one whose
   founding record was *written first* (lower `_seq_no`: the records index has one shard, so its
   sequence numbers order every write) stands, and the records of the other join it. A record always
   sees every record written before it (it waited for them), so of two concurrent copies the later one
   sees the earlier: they never each join the other, and never both keep their own.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.stories.match import TITLE_WINDOW, Reason, same_story
from pipeline.stories.sketch import Fingerprint

CANDIDATES = 4  # candidates verified per article, the best-keyed first (in the store and in the batch)
RECHECK_CANDIDATES = 16  # on the recheck, among the few records other workers wrote moments ago


@dataclass(frozen=True)
class Record:
    """What the shared state holds for one article; `seq_no` is the record's write position, when known."""

    fingerprint: Fingerprint
    story_id: str
    seq_no: int | None = None
    primary_term: int | None = None
    written_at: datetime | None = None
    batch: str | None = None  # the batch that wrote it (its recheck is done once that batch is marked checked)

    @property
    def article_id(self) -> str:
        return self.fingerprint.article_id

    @property
    def is_root(self) -> bool:
        return self.story_id == self.article_id

    @property
    def order(self) -> tuple[int, int] | None:
        """Where the record's last write stands among all writes (primary term, then sequence number)."""
        return None if self.seq_no is None else (self.primary_term or 0, self.seq_no)


@dataclass(frozen=True)
class Decision:
    """The story of one article and how it was chosen."""

    story_id: str
    how: str  # "known" (it had a record), "founded", or the match reason ("text", "contained", "headline")
    matched: str | None = None  # the article it was matched with

    @property
    def founded(self) -> bool:
        return self.how == "founded"


def ranked(candidates: Iterable[Record], shared: Mapping[str, int]) -> list[Record]:
    """Candidates best first: most shared keys, then by story and article id (the same order everywhere)."""
    return sorted(candidates, key=lambda r: (-shared.get(r.article_id, 0), r.story_id, r.article_id))


def candidates_among(
    fingerprints: Sequence[Fingerprint], records: Sequence[Record], window: timedelta, limit: int = RECHECK_CANDIDATES
) -> dict[str, list[Record]]:
    """Per fingerprint, the records (of a small set, e.g. those other workers wrote moments ago) that share an
    LSH key with it, or a headline key within hours, and are within the window: most shared keys first."""
    # Records by key, only under the fingerprints' keys (a record shares one or two of its dozen, most often):
    # set operations in C instead of a Python step per record and key.
    wanted = set().union(*[fp.keys for fp in fingerprints])
    by_key: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        for key in wanted.intersection(record.fingerprint.keys):
            by_key[key].append(record)
    found: dict[str, list[Record]] = {}
    stored = by_key.keys()
    for fp in fingerprints:
        if stored.isdisjoint(fp.keys):  # most articles of a batch share no key with any record: one C-level check
            found[fp.article_id] = []
            continue
        shared: dict[str, int] = defaultdict(int)
        seen: dict[str, Record] = {}
        for key in fp.bands:
            for record in by_key.get(key, ()):
                shared[record.article_id] += 1
                seen[record.article_id] = record
        for key in fp.headline_keys:
            for record in by_key.get(key, ()):
                if abs(record.fingerprint.at - fp.at) <= TITLE_WINDOW:
                    shared[record.article_id] += 1
                    seen[record.article_id] = record
        near = [r for r in seen.values() if r.article_id != fp.article_id and abs(r.fingerprint.at - fp.at) <= window]
        found[fp.article_id] = ranked(near, shared)[:limit]
    return found


def first_pass(
    batch: Sequence[Fingerprint],
    known: Mapping[str, Record],
    candidates: Mapping[str, Sequence[Record]],
    window: timedelta,
) -> dict[str, Decision]:
    """Decisions for every article of the batch (in batch order; a repeated id is decided once)."""
    decisions: dict[str, Decision] = {}
    # The batch's articles decided so far, by key: the first that has it, and the others after it, in order.
    first: dict[str, Fingerprint] = {}
    others: defaultdict[str, list[Fingerprint]] = defaultdict(list)
    for fp in batch:
        article_id = fp.article_id
        if article_id in decisions:
            continue
        keys = fp.keys
        alone = first.keys().isdisjoint(keys)  # most articles of a batch share no key with an earlier one
        if (record := known.get(article_id)) is not None:
            decisions[article_id] = Decision(record.story_id, "known")
        elif alone and not candidates.get(article_id):
            decisions[article_id] = Decision(article_id, "founded")
        else:
            stored = candidates.get(article_id, ())
            decisions[article_id] = _choose(fp, stored, first, others, decisions, window)
        if alone:
            first.update(dict.fromkeys(keys, fp))
        else:
            for key in keys:
                if first.setdefault(key, fp) is not fp:
                    others[key].append(fp)
    return decisions


def _choose(
    fp: Fingerprint,
    stored: Sequence[Record],
    first: Mapping[str, Fingerprint],
    others: Mapping[str, list[Fingerprint]],
    decisions: Mapping[str, Decision],
    window: timedelta,
) -> Decision:
    # The earliest-written record first: of copies being founded at the same moment, the earliest keeps its
    # story on the recheck, so a copy that sees several joins the one that will stand.
    if stored:
        for record in sorted(stored, key=lambda r: (r.order or (0, 0), r.story_id, r.article_id)):
            if record.article_id != fp.article_id and (reason := same_story(fp, record.fingerprint, window)):
                return Decision(record.story_id, reason.value, record.article_id)
    hits: list[Fingerprint] = []
    for key in fp.bands:
        if (other := first.get(key)) is not None:
            hits.append(other)
            hits += others.get(key, ())
    at = fp.at
    for key in fp.headline_keys:  # a headline key only counts within hours, as the headline rule does
        if (other := first.get(key)) is not None:
            hits += [o for o in (other, *others.get(key, ())) if abs(o.at - at) <= TITLE_WINDOW]
    if not hits:
        return Decision(fp.article_id, "founded")
    shared = Counter(other.article_id for other in hits)
    earlier = {other.article_id: other for other in hits}
    for article_id in sorted(earlier, key=lambda a: (-shared[a], a))[:CANDIDATES]:
        if reason := same_story(fp, earlier[article_id], window):
            return Decision(decisions[article_id].story_id, reason.value, article_id)
    return Decision(fp.article_id, "founded")


@dataclass(frozen=True)
class Move:
    """A founder that joins an earlier-written story after the recheck."""

    article_id: str
    story_id: str
    matched: str
    reason: Reason


def recheck(
    written: Sequence[Record],
    candidates: Mapping[str, Sequence[Record]],
    roots: Mapping[str, Record],
    window: timedelta,
) -> dict[str, Move]:
    """Records this batch wrote (with their write positions) that must join a story founded before theirs.

    `candidates`: per record, records found once every write before it is visible; `roots`: for the story of
    every candidate and of every written record, the root record of the story it belongs to now (a story whose
    founder joined another one resolves to that one's root), with its write position. A record joins, among
    the stories of its verified candidates whose root was written before the root of its own story (itself,
    for a founder), the one written first.
    """
    moves: dict[str, Move] = {}
    for record in written:
        own = roots.get(record.story_id)
        standing = own.order if own is not None and own.order is not None else record.order
        if standing is None:
            raise ValueError(f"recheck needs the write position of record {record.article_id}")
        best: tuple[tuple[int, int], Move] | None = None
        for candidate in candidates.get(record.article_id, ()):
            root = roots.get(candidate.story_id)
            if root is None or root.order is None or root.order >= standing:
                continue  # its story was founded after this one's: that story's records see this one and join it
            reason = same_story(record.fingerprint, candidate.fingerprint, window)
            if reason and (best is None or root.order < best[0]):
                best = (root.order, Move(record.article_id, root.story_id, candidate.article_id, reason))
        if best is not None:
            moves[record.article_id] = best[1]
    return moves
