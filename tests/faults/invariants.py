"""What must hold after every fault scenario, and the figures to report."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch
from elasticsearch.helpers import scan

from pipeline import deadletters, kafka
from pipeline.config import Settings
from tests.faults.items import Expected


@dataclass
class Figures:
    raw_messages: int
    unique_items: int
    documents: int
    duplicates: int
    lost: int
    stale: int
    dead_letters: int
    dead_letter_items: int
    unexpected_dead: int

    def line(self, scenario: str, faults: str) -> str:
        return (
            f"[{scenario}] faults: {faults}; raw messages {self.raw_messages}, unique items "
            f"{self.unique_items}, documents {self.documents}, duplicates {self.duplicates}, lost {self.lost}, "
            f"stale {self.stale}, dead letters {self.dead_letters} ({self.dead_letter_items} items, "
            f"{self.unexpected_dead} unexpected)"
        )


def wait_drained(settings: Settings, timeout_s: float = 240) -> None:
    """Until both groups have committed everything on their topics."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if (
                kafka.lag(settings, settings.group_normalize, settings.topic_raw) == 0
                and kafka.lag(settings, settings.group_index, settings.topic_articles) == 0
            ):
                return
        except Exception:  # noqa: BLE001 - the broker may be restarting; ask again
            pass
        time.sleep(1)
    raise AssertionError(f"pipeline not drained within {timeout_s}s")


def documents(es: Elasticsearch, alias: str) -> dict[str, dict[str, Any]]:
    return {hit["_id"]: hit["_source"] for hit in scan(es, index=alias, query={"query": {"match_all": {}}})}


def check(settings: Settings, es: Elasticsearch, expected: Expected) -> Figures:
    es.indices.refresh(index=settings.index_alias)
    docs = {
        hit["_id"]: hit["_source"] for hit in scan(es, index=settings.index_alias, query={"query": {"match_all": {}}})
    }
    ids = Counter(doc["id"] for doc in docs.values())
    letters = list(deadletters.read(settings))
    dead_ids = {letter.item_id for letter in letters}
    figures = Figures(
        raw_messages=expected.raw_messages,
        unique_items=len(expected.versions) + len(expected.invalid),
        documents=len(docs),
        duplicates=sum(n - 1 for n in ids.values()) + len(set(docs) - set(expected.versions)),
        lost=len(set(expected.versions) - set(docs)),
        stale=sum(1 for i, doc in docs.items() if i in expected.versions and doc["version"] != expected.versions[i]),
        dead_letters=len(letters),
        dead_letter_items=len(dead_ids & expected.invalid),
        unexpected_dead=len(dead_ids - expected.invalid),
    )
    return figures


def assert_invariant(figures: Figures, expected: Expected) -> None:
    assert figures.documents == len(expected.versions)  # documents == unique valid items
    assert figures.duplicates == 0 and figures.lost == 0 and figures.stale == 0
    assert figures.dead_letter_items == len(expected.invalid) and figures.unexpected_dead == 0
    assert figures.documents + figures.dead_letter_items == figures.unique_items  # raw == articles + dead letters
