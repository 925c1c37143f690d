"""The story store's msearch body, written as bytes: valid NDJSON, one query per fingerprint, as the store's
candidates lookup means it (keys scored, headline keys within hours, the window, never the article itself)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pipeline.stories.assign import CANDIDATES
from pipeline.stories.sketch import fingerprint
from pipeline.stories.store import msearch_body

AT = datetime(2024, 3, 27, 8, 0, tzinfo=UTC)
MS = int(AT.timestamp() * 1000)


def test_one_header_and_one_query_per_fingerprint() -> None:
    fps = [fingerprint("a", "港交所(00388.HK)目标价574港元", "里昂下调港交所目标价，评级买入。", AT)]
    fps.append(fingerprint('b"\\', "", "正文", AT))  # an id JSON must escape
    lines = msearch_body("idx-story-records", fps, timedelta(days=7), written_since=AT, not_writer="w1").split(b"\n")
    assert lines[-1] == b"" and len(lines) == 5
    header, query = json.loads(lines[0]), json.loads(lines[1])
    assert header == {"index": "idx-story-records"} and json.loads(lines[2]) == header
    assert query["size"] == CANDIDATES and query["seq_no_primary_term"] is True
    assert query["_source"] == {"excludes": ["keys"]} and query["sort"] == ["_score", {"article_id": "asc"}]
    boolean = query["query"]["bool"]
    terms = [c["term"]["keys"] for c in boolean["should"] if "term" in c]
    assert terms == list(fps[0].bands) and boolean["minimum_should_match"] == 1
    headline = [c["bool"] for c in boolean["should"] if "bool" in c]
    assert [h["must"][0]["term"]["keys"] for h in headline] == list(fps[0].headline_keys)
    assert headline[0]["filter"] == [{"range": {"at": {"gte": MS - 12 * 3600_000, "lte": MS + 12 * 3600_000}}}]
    week = 7 * 24 * 3600_000
    assert boolean["filter"] == [
        {"range": {"at": {"gte": MS - week, "lte": MS + week}}},
        {"range": {"written_at": {"gte": MS}}},
    ]
    assert boolean["must_not"] == [{"ids": {"values": ["a"]}}, {"term": {"writer": "w1"}}]
    assert json.loads(lines[3])["query"]["bool"]["must_not"][0] == {"ids": {"values": ['b"\\']}}
