"""The story grouping's shared state in Elasticsearch: a thin adapter, no decisions.

Two indices beside the article alias (`Settings.story_records_index`, `Settings.stories_index`):
- *records*, one per article (`_id` = article id): its fingerprint (LSH keys, bottom-k sketch, title,
  figures, time) and its story. Created once (`op_type=create`), changed only when a founder joins an
  earlier story. One shard, so `_seq_no` orders every write.
- *stories*, one per story of two or more articles (`_id` = story id): size, first-seen article, members.
  Read-modify-write with optimistic concurrency (`if_seq_no`/`if_primary_term`); the local node has no
  scripting, and the members set makes every update idempotent.

Requests per batch: one realtime `mget` (the batch's records), one search for the candidates of the whole
batch (records sharing a key with it, ranked per article in `assign.candidates_among`; past `RECENT_LIMIT`
of them, an `msearch` of one scored query per new article instead), one `bulk` of creates, one index stats
request (or a few, while earlier writes are still being processed) and a `refresh`, one more search (records
other workers wrote in the last minute) and
a realtime `mget` of the roots they point at, and a small `bulk` marking the batch checked (its id and time,
beside the records; a batch seen again, by a replay or a redelivery, is rechecked only when its mark is
missing); moves and story updates are a `bulk` each when there are any.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from elasticsearch import ApiError, Elasticsearch, TransportError

from pipeline.config import Settings
from pipeline.errors import RetryableError
from pipeline.stories.assign import CANDIDATES, Record
from pipeline.stories.match import TITLE_WINDOW
from pipeline.stories.sketch import Fingerprint, pack, unpack

SETTLE_TIMEOUT_S = 10.0
RECENT_LIMIT = 2000  # records other workers wrote moments ago, read in one search on the recheck
MAX_HOPS = 8  # a story whose founder joined another, and so on: followed this far
MAX_MEMBERS = 10_000  # a story document lists at most this many members (its size keeps counting them)


_JSON = msgspec.json.encode

# Only what is read of each answer (`filter_path`): the rest of a hit or a bulk item (index name, score, shard
# counts, ...) would be sent, decoded and dropped. Where answers are matched to requests by position, a field
# every element has (`status`, `_id`) is kept, so that no element of the list is left out.
SEARCH_FIELDS = ["hits.total.value", "hits.hits._source", "hits.hits._seq_no", "hits.hits._primary_term"]
MSEARCH_FIELDS = [
    "responses.status",
    "responses.error",
    "responses.hits.hits._source",
    "responses.hits.hits._seq_no",
    "responses.hits.hits._primary_term",
]
DOC_FIELDS = ["docs._id", "docs.found", "docs._source", "docs._seq_no", "docs._primary_term"]
BULK_FIELDS = ["errors", "items.*.status", "items.*.error", "items.*._seq_no", "items.*._primary_term"]


def _ms(moment: datetime) -> int:
    """Epoch milliseconds: what a date range query takes cheapest (the fields' default format reads them)."""
    return int(moment.timestamp() * 1000)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)  # takes the "Z" of `_iso` as it is


BATCH_PREFIX = "batch:"  # the id of a batch's "checked" mark in the records index (no keys: never a candidate)


def record_source(
    fp: Fingerprint, story_id: str, written_at: datetime | str, writer: str = "", batch: str | None = None
) -> dict[str, Any]:
    """A record's source; `written_at` may come as `_iso` wrote it (once for a whole batch)."""
    return {
        "article_id": fp.article_id,
        "story_id": story_id,
        "writer": writer,
        "batch": batch,
        "keys": fp.keys,
        "at": _iso(fp.at),
        "written_at": written_at if isinstance(written_at, str) else _iso(written_at),
        "size": fp.size,
        "bottom": pack(fp.bottom),
        "title": fp.title,
        "figures": list(fp.figures),
    }


def _split_keys(keys: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A record's band keys and headline keys: `record_source` writes a fingerprint's keys as they are, the band
    keys ("b...") first, then its headline keys ("t:...", "f:...", two at most), found here from the end."""
    cut = len(keys)
    while cut and not keys[cut - 1].startswith("b"):
        cut -= 1
    return keys[:cut], keys[cut:]


def record_from(source: Mapping[str, Any], seq_no: int | None = None, primary_term: int | None = None) -> Record:
    keys = tuple(source.get("keys", ()))  # candidates are read without their keys (not needed to verify)
    bands, headline_keys = _split_keys(keys)
    fp = Fingerprint(
        article_id=str(source["article_id"]),
        at=_time(str(source["at"])),
        size=int(source["size"]),
        bottom=unpack(str(source["bottom"])),
        bands=bands,
        title=str(source["title"]),
        figures=tuple(source["figures"]),
        headline_keys=headline_keys,
        keys=keys,
    )
    written = source.get("written_at")
    batch = source.get("batch")
    return Record(
        fp,
        str(source["story_id"]),
        seq_no,
        primary_term,
        _time(str(written)) if written else None,
        str(batch) if batch else None,
    )


def msearch_body(
    index: str,
    fingerprints: Sequence[Fingerprint],
    window: timedelta,
    *,
    written_since: datetime | None = None,
    not_writer: str | None = None,
    exclude: Iterable[str] = (),
) -> bytes:
    """The NDJSON body of `StoryStore.candidates`' msearch: per fingerprint, records sharing its keys (scored:
    more and rarer keys first), a headline key only within hours of it, within the window, not itself."""
    header = b'{"index":%s}\n' % _JSON(index)
    since = b',{"range":{"written_at":{"gte":%d}}}' % _ms(written_since) if written_since else b""
    writer = b',{"term":{"writer":%s}}' % _JSON(not_writer) if not_writer is not None else b""
    excluded = sorted(set(exclude))
    window_ms, title_ms = int(window.total_seconds() * 1000), int(TITLE_WINDOW.total_seconds() * 1000)
    lines: list[bytes] = []
    for fp in fingerprints:
        at = _ms(fp.at)
        should = [b'{"term":{"keys":%s}}' % _JSON(key) for key in fp.bands]
        if fp.headline_keys:
            near = b'{"range":{"at":{"gte":%d,"lte":%d}}}' % (at - title_ms, at + title_ms)
            should += [
                b'{"bool":{"must":[{"term":{"keys":%s}}],"filter":[%s]}}' % (_JSON(key), near)
                for key in fp.headline_keys
            ]
        query = (
            b'{"size":%d,"query":{"bool":{"should":[%s],"minimum_should_match":1,'
            b'"filter":[{"range":{"at":{"gte":%d,"lte":%d}}}%s],'
            b'"must_not":[{"ids":{"values":%s}}%s]}},'
            b'"seq_no_primary_term":true,"sort":["_score",{"article_id":"asc"}],"_source":{"excludes":["keys"]}}\n'
        ) % (
            CANDIDATES,
            b",".join(should),
            at - window_ms,
            at + window_ms,
            since,
            _JSON([fp.article_id, *excluded]),
            writer,
        )
        lines += (header, query)
    return b"".join(lines)


@dataclass(frozen=True)
class Created:
    """The outcome of writing a batch's new records: the records as written (with their write positions),
    and the records that already existed (another worker wrote them first: their story stands)."""

    written: dict[str, Record]
    existing: dict[str, Record]


@dataclass(frozen=True)
class Member:
    article_id: str
    at: datetime


class StoryStore:
    """Reads and writes the story indices of `settings` (created by `pipeline.search.ensure_index`)."""

    def __init__(self, es: Elasticsearch, settings: Settings) -> None:
        self.es = es
        self.records_index = settings.story_records_index
        self.stories_index = settings.stories_index
        self.requests = 0  # how many requests this store made (for the benchmark's figures)

    def _call(self, what: str, request: Any, **kwargs: Any) -> Any:
        self.requests += 1
        try:
            return request(**kwargs).body
        except (ApiError, TransportError) as exc:  # a failure here pauses the worker: it never skips grouping
            raise RetryableError(f"story grouping: Elasticsearch failed while {what}: {exc}") from exc

    def records(self, article_ids: Iterable[str]) -> dict[str, Record]:
        """The records of these articles that exist, read in real time (no refresh needed)."""
        ids = sorted(set(article_ids))
        if not ids:
            return {}
        body = self._call(
            "reading story records",
            self.es.mget,
            index=self.records_index,
            ids=ids,
            realtime=True,
            filter_path=DOC_FIELDS,
        )
        return {
            doc["_id"]: record_from(doc["_source"], doc.get("_seq_no"), doc.get("_primary_term"))
            for doc in body.get("docs", ())
            if doc.get("found")
        }

    def candidates(
        self,
        fingerprints: Sequence[Fingerprint],
        window: timedelta,
        *,
        written_since: datetime | None = None,
        not_writer: str | None = None,
        exclude: Iterable[str] = (),
    ) -> dict[str, list[Record]]:
        """Per fingerprint, the CANDIDATES records (within the window) that share the most, and the rarest, LSH
        keys with it (Elasticsearch's term scoring weighs a key by how few records have it: a key that many
        unrelated texts share, from a phrase every article of a template has, counts for little); a headline key
        counts only for records within hours of it. `written_since`: only records written since; `not_writer`:
        not the records one writer wrote (its token). One `msearch`, its body written as bytes (a query per
        fingerprint: building them as dicts and dumping those cost more than the search itself)."""
        found: dict[str, list[Record]] = {fp.article_id: [] for fp in fingerprints}
        fingerprints = [fp for fp in fingerprints if fp.keys]  # no text, no keys: nothing can match
        if not fingerprints:
            return found
        body = msearch_body(
            self.records_index,
            fingerprints,
            window,
            written_since=written_since,
            not_writer=not_writer,
            exclude=exclude,
        )
        answer = self._call("looking up story candidates", self.es.msearch, searches=body, filter_path=MSEARCH_FIELDS)
        for fp, response in zip(fingerprints, answer["responses"], strict=True):
            if "error" in response:
                raise RetryableError(f"story grouping: candidate search failed: {response['error']}")
            found[fp.article_id] = [
                record_from(hit["_source"], hit.get("_seq_no"), hit.get("_primary_term"))
                for hit in response.get("hits", {}).get("hits", ())
            ]
        return found

    def pool(
        self, fingerprints: Sequence[Fingerprint], window: timedelta, limit: int | None = None
    ) -> list[Record] | None:
        """Every record that can be a candidate of one of these fingerprints, in one search: sharing an LSH key
        with the batch, or a headline key within hours of the batch, within the window of the batch's times
        (the caller ranks them per article, `assign.candidates_among`). None when more than `limit` match: the
        caller then asks `candidates`, a scored query per fingerprint. One search instead of one per article:
        the per-article queries cost Elasticsearch more CPU than indexing the articles themselves."""
        limit = RECENT_LIMIT if limit is None else limit
        bands = sorted({key for fp in fingerprints for key in fp.bands})
        headlines = sorted({key for fp in fingerprints for key in fp.headline_keys})
        if not bands and not headlines:
            return []
        first, last = min(fp.at for fp in fingerprints), max(fp.at for fp in fingerprints)
        shares: list[dict[str, Any]] = []
        if bands:
            shares.append({"terms": {"keys": bands}})
        if headlines:
            near = {"range": {"at": {"gte": _ms(first - TITLE_WINDOW), "lte": _ms(last + TITLE_WINDOW)}}}
            shares.append({"bool": {"filter": [{"terms": {"keys": headlines}}, near]}})
        query = {
            "bool": {
                "filter": [
                    {"bool": {"should": shares, "minimum_should_match": 1}},
                    {"range": {"at": {"gte": _ms(first - window), "lte": _ms(last + window)}}},
                ]
            }
        }
        return self._records_matching("looking up story candidates", query, limit)

    def _records_matching(self, what: str, query: dict[str, Any], limit: int) -> list[Record] | None:
        """The records a query matches, with their write positions; None when more than `limit` do."""
        answer = self._call(
            what,
            self.es.search,
            index=self.records_index,
            query=query,
            size=limit,
            track_total_hits=limit + 1,
            seq_no_primary_term=True,
            filter_path=SEARCH_FIELDS,
        )
        if int(answer["hits"]["total"]["value"]) > limit:
            return None
        hits = answer["hits"].get("hits", ())  # absent when none matched (`filter_path` leaves no empty list)
        return [record_from(hit["_source"], hit.get("_seq_no"), hit.get("_primary_term")) for hit in hits]

    def recent(
        self,
        fingerprints: Sequence[Fingerprint],
        window: timedelta,
        *,
        written_since: datetime,
        not_writer: str,
        limit: int | None = None,
    ) -> list[Record] | None:
        """The records other writers wrote since `written_since` that share a key with any of these fingerprints
        and are within the window of one of them: one search (a `terms` filter on the batch's keys). None when
        more than `limit` match (the caller then asks `candidates`, one query per fingerprint)."""
        limit = RECENT_LIMIT if limit is None else limit
        keys = sorted({key for fp in fingerprints for key in fp.keys})
        if not keys:
            return []
        first = min(fp.at for fp in fingerprints) - window
        last = max(fp.at for fp in fingerprints) + window
        query = {
            "bool": {
                "filter": [
                    {"terms": {"keys": keys}},
                    {"range": {"written_at": {"gte": _iso(written_since)}}},
                    {"range": {"at": {"gte": _iso(first), "lte": _iso(last)}}},
                ],
                "must_not": [
                    {"term": {"writer": not_writer}},
                    {"ids": {"values": sorted({fp.article_id for fp in fingerprints})}},
                ],
            }
        }
        return self._records_matching("looking up recent story records", query, limit)

    def create(
        self,
        decided: Sequence[tuple[Fingerprint, str]],
        written_at: datetime,
        writer: str = "",
        batch: str | None = None,
    ) -> Created:
        """Create the records of newly decided articles (tagged with the writer's and the batch's tokens). Not
        refreshed: see `settle`."""
        if not decided:
            return Created({}, {})
        index = _JSON(self.records_index)
        written = _iso(written_at)
        operations: Any = b"".join(  # bytes: sent as they are (`pipeline.search.client`)
            b'{"create":{"_index":%s,"_id":%s}}\n%s\n'
            % (index, _JSON(fp.article_id), _JSON(record_source(fp, story_id, written, writer, batch)))
            for fp, story_id in decided
        )
        body = self._call("writing story records", self.es.bulk, operations=operations, filter_path=BULK_FIELDS)
        created: dict[str, Record] = {}
        clashes: list[str] = []
        for (fp, story_id), item in zip(decided, body["items"], strict=True):
            result = item["create"]
            status = int(result.get("status", 500))
            if status in (200, 201):
                created[fp.article_id] = Record(
                    fp, story_id, result["_seq_no"], result["_primary_term"], written_at, batch
                )
            elif status == 409:
                clashes.append(fp.article_id)
            else:
                raise RetryableError(f"story grouping: record {fp.article_id} not written: {result.get('error')}")
        return Created(created, self.records(clashes))

    def settle(self, seq_no: int) -> None:
        """Wait until every write to the records index up to `seq_no` is processed on every copy (its global
        checkpoint), then refresh: a search after this sees every record written before that one, including
        records another worker was still writing when ours was written."""
        deadline = time.monotonic() + SETTLE_TIMEOUT_S
        while True:
            body = self._call(
                "reading the story records' checkpoint",
                self.es.indices.stats,
                index=self.records_index,
                level="shards",
                metric="docs",  # the shard level always adds each copy's sequence numbers
                filter_path="indices.*.shards.*.seq_no.global_checkpoint",
            )
            copies = body["indices"][self.records_index]["shards"]["0"]
            if min(int(copy["seq_no"]["global_checkpoint"]) for copy in copies) >= seq_no:
                break
            if time.monotonic() > deadline:
                raise RetryableError(f"story grouping: writes before {seq_no} not processed in {SETTLE_TIMEOUT_S}s")
            time.sleep(0.005)
        self._call("refreshing story records", self.es.indices.refresh, index=self.records_index)

    def roots(self, story_ids: Iterable[str]) -> dict[str, Record]:
        """For each story id, the root record of the story it is now part of (its founder's record, following
        founders that joined another story), read in real time."""
        resolved: dict[str, Record] = {}
        pending = {story_id: story_id for story_id in set(story_ids)}  # asked -> where we are
        for _ in range(MAX_HOPS):
            if not pending:
                break
            found = self.records(pending.values())
            following: dict[str, str] = {}
            for asked, at in pending.items():
                record = found.get(at)
                if record is None:
                    continue  # the founder's record is gone (pruned): nothing to order by
                if record.is_root:
                    resolved[asked] = record
                else:
                    following[asked] = record.story_id
            pending = following
        return resolved

    def move(self, records: Sequence[Record], stories: Mapping[str, str], written_at: datetime) -> dict[str, Record]:
        """Point these records at new stories (optimistic concurrency on each); returns each record as it now
        stands (as moved, or as someone else left it when its write position had changed)."""
        if not records:
            return {}
        operations: list[dict[str, Any]] = []
        for record in records:
            operations.append(
                {
                    "index": {
                        "_index": self.records_index,
                        "_id": record.article_id,
                        "if_seq_no": record.seq_no,
                        "if_primary_term": record.primary_term,
                    }
                }
            )
            operations.append(
                record_source(record.fingerprint, stories[record.article_id], written_at, batch=record.batch)
            )
        body = self._call("moving story records", self.es.bulk, operations=operations, refresh="true")
        now: dict[str, Record] = {}
        changed: list[str] = []
        for record, item in zip(records, body["items"], strict=True):
            result = item["index"]
            status = int(result.get("status", 500))
            if status in (200, 201):
                now[record.article_id] = Record(
                    record.fingerprint,
                    stories[record.article_id],
                    result["_seq_no"],
                    result["_primary_term"],
                    written_at,
                    record.batch,
                )
            elif status == 409:
                changed.append(record.article_id)
            else:
                raise RetryableError(f"story grouping: record {record.article_id} not moved: {result.get('error')}")
        now.update(self.records(changed))
        return now

    def checked(self, batches: Iterable[str]) -> set[str]:
        """Which of these batches finished their recheck (marked by `mark_checked`), read in real time."""
        ids = sorted({BATCH_PREFIX + batch for batch in batches})
        if not ids:
            return set()
        body = self._call("reading checked batches", self.es.mget, index=self.records_index, ids=ids, realtime=True)
        return {doc["_id"].removeprefix(BATCH_PREFIX) for doc in body["docs"] if doc.get("found")}

    def mark_checked(self, batches: Iterable[str], at: datetime) -> None:
        """Mark batches whose records were rechecked: a replay or redelivery of their articles (known records)
        keeps their stories as they are instead of rechecking them again."""
        operations: list[dict[str, Any]] = []
        for batch in sorted(set(batches)):
            operations.append({"index": {"_index": self.records_index, "_id": BATCH_PREFIX + batch}})
            operations.append({"batch": batch, "written_at": _iso(at)})
        if operations:
            body = self._call("marking checked batches", self.es.bulk, operations=operations)
            if body.get("errors"):
                raise RetryableError("story grouping: a batch's checked mark was not written")

    def stories(self, story_ids: Iterable[str]) -> dict[str, tuple[dict[str, Any], int, int]]:
        """Story documents that exist: source, seq_no, primary_term (real time)."""
        ids = sorted(set(story_ids))
        if not ids:
            return {}
        body = self._call("reading stories", self.es.mget, index=self.stories_index, ids=ids, realtime=True)
        return {
            doc["_id"]: (doc["_source"], doc["_seq_no"], doc["_primary_term"])
            for doc in body["docs"]
            if doc.get("found")
        }

    def write_stories(self, documents: Mapping[str, tuple[dict[str, Any], int | None, int | None]]) -> list[str]:
        """Write story documents (create when there was none, else conditional on the version read);
        returns the ids that changed under us (to read and merge again)."""
        if not documents:
            return []
        operations: list[dict[str, Any]] = []
        order = sorted(documents)
        for story_id in order:
            source, seq_no, primary_term = documents[story_id]
            if seq_no is None:
                operations.append({"create": {"_index": self.stories_index, "_id": story_id}})
            else:
                operations.append(
                    {
                        "index": {
                            "_index": self.stories_index,
                            "_id": story_id,
                            "if_seq_no": seq_no,
                            "if_primary_term": primary_term,
                        }
                    }
                )
            operations.append(source)
        body = self._call("writing stories", self.es.bulk, operations=operations)
        conflicts: list[str] = []
        for story_id, item in zip(order, body["items"], strict=True):
            result = next(iter(item.values()))
            status = int(result.get("status", 500))
            if status == 409:
                conflicts.append(story_id)
            elif status not in (200, 201):
                raise RetryableError(f"story grouping: story {story_id} not written: {result.get('error')}")
        return conflicts

    def story(self, story_id: str) -> dict[str, Any] | None:
        found = self.stories([story_id])
        return found[story_id][0] if story_id in found else None

    def prune(self, before: datetime, page: int = 1000) -> int:
        """Delete the records (and batches' checked marks) written before `before` of articles published before
        it too: past the window no new copy can match them. Returns how many were deleted; none when the records
        index does not exist yet. A replay of raw items this old groups them anew (their records are gone).

        After a refresh (records are written unrefreshed), pages of ids are searched and deleted with a refreshed
        `bulk` until none is left (`_delete_by_query` belongs to a module the local node does not ship)."""
        if not self.es.indices.exists(index=self.records_index):
            return 0
        query = {
            "bool": {
                "filter": [{"range": {"written_at": {"lt": _ms(before)}}}],
                "must_not": [{"range": {"at": {"gte": _ms(before)}}}],
            }
        }
        self._call("refreshing story records", self.es.indices.refresh, index=self.records_index)
        deleted = 0
        while True:
            found = self._call(
                "finding old story records",
                self.es.search,
                index=self.records_index,
                query=query,
                size=page,
                source=False,
                track_total_hits=False,
            )
            ids = [hit["_id"] for hit in found["hits"]["hits"]]
            if not ids:
                return deleted
            operations = [{"delete": {"_index": self.records_index, "_id": doc_id}} for doc_id in ids]
            body = self._call("pruning story records", self.es.bulk, operations=operations, refresh=True)
            gone = sum(1 for item in body["items"] if item["delete"].get("status") == 200)
            if gone == 0:  # nothing of this page could be deleted: stop rather than loop
                raise RetryableError(f"story grouping: no record of {len(ids)} could be pruned: {body['items'][0]}")
            deleted += gone
