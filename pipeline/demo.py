"""`newsflow demo` (make demo): the main job on the bundled sample sources, start to finish."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from pipeline import kafka, search
from pipeline.api.page import local_time
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.progress import track
from pipeline.sources.catalog import load_sources
from pipeline.stack import airflow_server, manager
from pipeline.workers.main import run_all

SAMPLE_QUERY = "跨境电商综试区"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int) -> str:
    """`text` cut and padded to `width` terminal columns (CJK characters take two)."""
    out = ""
    for ch in text:
        if _width(out + ch) > width - 2:
            out += "…"
            break
        out += ch
    return out + " " * max(0, width - _width(out))


def run_demo(settings: Settings) -> int:
    print("== 1/4 local stack (Kafka, Elasticsearch, Airflow)")
    manager.up(settings)
    kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
    es = search.client(settings)
    search.ensure_index(es, settings)

    print(f"\n== 2/4 poll the sources in {settings.sources}")
    emitter = KafkaEmitter(settings)
    try:
        sources = [s for s in load_sources(settings.sources) if s.enabled]
        for source in track(sources, "poll", len(sources)):
            print("  " + poll_one(settings, source, emitter).line())
    finally:
        emitter.close()

    print("\n== 3/4 every stage until idle (`newsflow worker all --until-idle 3`)")
    every = run_all(settings, until_idle_s=3.0)
    for name, stats in every.items():
        print(f"  {name}: {stats.records} messages in {stats.batches} batches")
    es.indices.refresh(index=settings.index_alias)

    print(f"\n== 4/4 what is in the index ({settings.index_alias})")
    docs = es.search(index=settings.index_alias, size=50, sort=[{"published_at": {"order": "desc"}}])["hits"]["hits"]
    header = _cell(f"published ({settings.timezone})", 26) + _cell("lang", 6) + _cell("outlet", 20) + _cell("title", 50)
    print(f"  {header}keywords")
    for hit in docs:
        doc = hit["_source"]
        stamp = doc.get("published_at")
        published = local_time(datetime.fromisoformat(stamp), settings.zone) if stamp else "-"
        print(
            f"  {_cell(published, 26)}{_cell(doc['language'], 6)}{_cell(doc['outlet'], 20)}"
            f"{_cell(doc['title'], 50)}{', '.join(doc['keywords'][:4])}"
        )
    print(f"  {len(docs)} documents")

    print(f"\n== sample search: {SAMPLE_QUERY}")
    for rank, hit in enumerate(search.search(es, settings.index_alias, SAMPLE_QUERY, size=3), start=1):
        doc = hit["_source"]
        snippet = (hit.get("highlight", {}).get("body_text") or [doc["summary"]])[0]
        print(f"  {rank}. {doc['title']}  (score {hit['_score']:.2f})\n     … {snippet} …")
    print(f"\nAirflow UI: {airflow_server.base_url(settings)} ({airflow_server.login_hint(settings)})")
    print("Search from the shell: .venv/bin/newsflow search 跨境电商")
    return 0
