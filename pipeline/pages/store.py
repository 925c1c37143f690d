"""Where every fetch worker finds what it last read of a page: an Elasticsearch index of its own.

One document per link (`_id` = the link's id): the page's validators (ETag, Last-Modified) for a
conditional GET when the story comes round again (a feed re-lists it updated, a sitemap's lastmod
moves), and what was extracted from it, reused when the page answers 304 Not Modified. The index is
a cache: reading or writing it never holds up the pipeline. When Elasticsearch cannot answer, the page
is fetched without validators and the record is written next time.

Why not carry the validators in the message: the poll that re-lists a story does not know them (the
fetch worker learned them), and a 304 needs the page's extracted text too, which only a store shared
by all fetch workers can give back. Why not a compacted topic: a worker would have to read all of it
into memory to look one page up; Elasticsearch answers a batch's lookups with one `mget`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from pipeline.pages.content import PageContent
from schemas.models import Validators

log = logging.getLogger(__name__)

MAPPINGS: dict[str, Any] = {
    "dynamic": False,
    "properties": {
        "url": {"type": "keyword"},
        "fetched_at": {"type": "date"},
        "content": {"type": "object", "enabled": False},
    },
}


class StoredPage(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    url: str
    validators: Validators
    fetched_at: AwareDatetime
    content: PageContent


class PageStore:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self._es = es
        self.index = index
        self._ready = False

    def _ensure(self) -> None:
        if not self._ready:
            self._es.options(ignore_status=400).indices.create(
                index=self.index, mappings=MAPPINGS, settings={"number_of_shards": 1, "number_of_replicas": 0}
            )
            self._ready = True

    def get_many(self, ids: list[str]) -> dict[str, StoredPage]:
        if not ids:
            return {}
        try:
            self._ensure()
            found = self._es.mget(index=self.index, ids=list(dict.fromkeys(ids)))
        except (ApiError, TransportError) as exc:
            log.warning("page store %s not read (pages fetched without validators): %s", self.index, exc)
            return {}
        pages: dict[str, StoredPage] = {}
        for doc in found.get("docs", []):
            if not doc.get("found"):
                continue
            try:
                pages[doc["_id"]] = StoredPage.model_validate(doc["_source"])
            except ValidationError:
                continue  # an older or damaged record: the page is fetched unconditionally
        return pages

    def put_many(self, pages: Mapping[str, StoredPage]) -> None:
        if not pages:
            return
        operations: list[dict[str, Any]] = []
        for page_id, page in pages.items():
            operations.append({"index": {"_index": self.index, "_id": page_id}})
            operations.append(page.model_dump(mode="json"))
        try:
            self._ensure()
            answer = self._es.bulk(operations=operations)
        except (ApiError, TransportError) as exc:
            log.warning("page store %s not written (next fetches are unconditional): %s", self.index, exc)
            return
        if answer.get("errors"):
            log.warning("page store %s: some records were not written", self.index)


def record(url: str, validators: Validators, fetched_at: datetime, content: PageContent) -> StoredPage:
    return StoredPage(url=url, validators=validators, fetched_at=fetched_at, content=content)
