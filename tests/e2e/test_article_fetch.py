"""Teasers in, full articles out: feeds of teasers pointing at article pages on a loopback server, polled,
then every stage in one process (fetch, normalize, index) on the real Kafka and Elasticsearch."""

from __future__ import annotations

import gzip
import itertools
import threading
import time
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import yaml

from pipeline import deadletters, kafka, search
from pipeline.commands import poll_one
from pipeline.config import Settings
from pipeline.emit import KafkaEmitter
from pipeline.normalize.ids import id_from_url
from pipeline.sources.catalog import load_sources
from pipeline.workers.main import run_all
from schemas.models import Stage
from tests.support.http_servers import Exchange, LoopbackServer

pytestmark = pytest.mark.services

PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "article_pages"
SHORE = "/business/2024/06/03/shore-power-trial"
RATES = "/business/2024/06/04/container-rates"
WEALTH = "/finance/2024-06-05/wealth-connect.html"


class Site:
    """The news site: pages, robots.txt, a page that is gone, one that answers 429 once, and the feeds."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.etag = '"shore-v1"'
        self.server = LoopbackServer(
            {
                "/robots.txt": self._static(b"User-agent: *\nDisallow: /private/\n", "text/plain"),
                SHORE: self._shore,
                "/amp/shore-power": self._shore,
                RATES: self._rates,
                WEALTH: self._static((PAGES / "wealth-connect.gbk.html").read_bytes(), "text/html"),
                "/business/gone": self._static(b"gone", "text/plain", status=404),
                "/private/memo": self._static(b"<html><body><p>internal memo</p></body></html>", "text/html"),
                "/feed.xml": self._feed("main"),
                "/amp.xml": self._feed("amp"),
            }
        )
        self.titles = {SHORE: "Port operators trial shore power for container ships"}

    def __enter__(self) -> Site:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(None, None, None)

    def _seen(self, exchange: Exchange) -> None:
        with self.lock:
            self.times.setdefault(exchange.target.split("?")[0], []).append(time.monotonic())

    def _static(self, body: bytes, kind: str, status: int = 200):  # type: ignore[no-untyped-def]
        def route(exchange: Exchange) -> None:
            self._seen(exchange)
            exchange.reply(status, body, [("Content-Type", kind)])

        return route

    def _shore(self, exchange: Exchange) -> None:
        self._seen(exchange)
        if exchange.headers.get("if-none-match") == self.etag:
            exchange.reply(304, b"", [("ETag", self.etag)])
            return
        body = (PAGES / "shore-power.html").read_bytes()
        exchange.reply(200, body, [("Content-Type", "text/html; charset=utf-8"), ("ETag", self.etag)])

    def _rates(self, exchange: Exchange) -> None:
        self._seen(exchange)
        if len(self.times[RATES]) == 1:
            exchange.reply(429, b"slow down", [("Retry-After", "2")])
            return
        body = (PAGES / "container-rates.html").read_bytes().replace(b"HOST", f"127.0.0.1:{self.server.port}".encode())
        exchange.reply(200, body, [("Content-Type", "text/html")])

    def _feed(self, which: str):  # type: ignore[no-untyped-def]
        def route(exchange: Exchange) -> None:
            self._seen(exchange)
            exchange.reply(200, self.feed(which).encode(), [("Content-Type", "application/rss+xml")])

        return route

    def feed(self, which: str) -> str:
        when = format_datetime(datetime.fromisoformat("2024-06-03T07:15:00+00:00"))
        items = [
            (
                f"{SHORE}?utm_source=rss",
                self.titles[SHORE],
                when,
                "Two terminal operators at the city's western "
                "docks began a six-month trial on Monday that lets berthed container ships plug into the grid…",
            ),
            (RATES, "Container freight rates fall for a third week", None, "Spot rates fell again. Read more »"),
            (WEALTH, "粤港澳大湾区跨境理财通业务试点扩容", None, "跨境理财通试点近日进一步扩容……阅读全文"),
            ("/business/gone", "A story that was taken down", when, "It was here once…"),
            ("/private/memo", "An internal memo", when, "Not for crawlers…"),
        ]
        if which == "amp":
            items = [("/amp/shore-power", self.titles[SHORE], when, "Shore power trial at the western docks…")]
        entries = "".join(
            f"<item><title>{escape(title)}</title><link>{self.server.url(link)}</link>"
            + (f"<pubDate>{date}</pubDate>" if date else "")
            + f"<description>{escape(teaser)}</description></item>"
            for link, title, date, teaser in items
        )
        head = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title>'
        return f"{head}{entries}</channel></rss>"


def _sources(tmp: Path, site: Site) -> Path:
    common = {
        "outlet": "Harbour City Wire",
        "category": "business",
        "trusted": True,
        "fetch_delay_s": 0.3,
        "fetch_concurrency": 1,
    }
    path = tmp / "sources.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "sources": [
                    {"id": "wire", "type": "feed", "url": site.server.url("/feed.xml"), **common},
                    {"id": "wire-amp", "type": "feed", "url": site.server.url("/amp.xml"), **common},
                ]
            }
        ),
        encoding="utf-8",
    )
    return path


def _poll(settings: Settings, *, force: bool = False) -> None:
    emitter = KafkaEmitter(settings)
    try:
        for source in load_sources(settings.sources):
            poll_one(settings, source, emitter, force=force)
    finally:
        emitter.close()


def _docs(settings: Settings) -> dict[str, dict[str, object]]:
    es = search.client(settings)
    es.indices.refresh(index=settings.index_alias)
    hits = es.search(index=settings.index_alias, size=50)["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}


def test_teasers_become_full_articles_politely(isolated: Settings, tmp_path: Path) -> None:
    with Site() as site:
        base = f"http://127.0.0.1:{site.server.port}"
        settings = isolated.model_copy(
            update={"sources": _sources(tmp_path, site), "fetch_retry_base_s": 0.5, "robots_cache_s": 3600}
        )
        kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
        _poll(settings)
        assert sum(kafka.end_offsets(settings, settings.topic_raw).values()) == 0  # the poll sent no teaser on
        every = run_all(settings, until_idle_s=3.0)
        assert every["fetch"].records >= 6

        docs = _docs(settings)
        shore, rates, wealth = (id_from_url(base + path) for path in (SHORE, RATES, WEALTH))
        assert set(docs) == {shore, rates, wealth}  # the story reached by two links is one document
        doc = docs[shore]
        assert doc["url"] == base + SHORE
        assert doc["title"] == "Port operators trial shore power for container ships"
        body = str(doc["body_text"])
        assert "eastern terminals" in body and "one million dollars per ship" in body
        assert "All rights reserved" not in body and "Most read" not in body and "Home" not in body
        assert doc["published_at"] == "2024-06-03T07:15:00Z"  # the feed's date
        assert doc["authors"] == ["Mei Lin"]  # from the page: the feed has none
        assert docs[rates]["published_at"] == "2024-06-04T01:30:00Z"  # from the page's metadata
        assert "order book for new ships" in str(docs[rates]["body_text"])
        assert docs[wealth]["url"] == base + WEALTH
        assert "互联互通" in str(docs[wealth]["body_text"])  # GBK declared only in <meta>
        assert docs[wealth]["published_at"] == "2024-06-05T02:39:00Z"  # naive page date read in the zone of zh
        assert docs[wealth]["language"] == "zh"

        letters = list(deadletters.read(settings, stage=Stage.FETCH))
        assert sorted(letter.error_type for letter in letters) == ["not_found", "robots_disallowed"]
        assert all(letter.source_id == "wire" and letter.error_message for letter in letters)
        assert "/private/memo" not in site.times  # robots.txt was obeyed: never asked for
        assert len(site.times["/robots.txt"]) == 1  # and read once for the host
        first, second = site.times[RATES]
        assert second - first >= 2.0  # the 429's Retry-After was waited out
        starts = sorted(t for path, ts in site.times.items() if not path.endswith(".xml") for t in ts)
        gaps = [round(b - a, 3) for a, b in itertools.pairwise(starts)]
        assert min(gaps) >= 0.29, (gaps, site.times)  # the source's fetch_delay_s
        assert kafka.lag(settings, settings.group_fetch, settings.topic_fetch) == 0
        assert kafka.lag(settings, settings.group_fetch, settings.topic_fetch_retry) == 0

        # The story comes round again, updated in the feed: the page is asked for conditionally (304),
        # and the document gets the new title with the article text it had.
        site.titles[SHORE] = "Port operators extend shore power trial"
        before = len(site.times[SHORE])
        _poll(settings)
        run_all(settings, until_idle_s=3.0)
        assert len(site.times[SHORE]) == before + 1
        docs = _docs(settings)
        assert docs[shore]["title"] == "Port operators extend shore power trial"
        assert "eastern terminals" in str(docs[shore]["body_text"])

        # The page that was gone is back: replaying the fetch stage's dead letters brings it in.
        site.server.routes["/business/gone"] = site._static((PAGES / "container-rates.html").read_bytes(), "text/html")
        report = deadletters.replay(settings, deadletters.read(settings, stage=Stage.FETCH))
        assert report.fetches == 2  # the 404 and the disallowed page, sent back as fresh requests
        run_all(settings, until_idle_s=3.0)
        assert id_from_url(base + "/business/gone") in _docs(settings)  # no canonical on the same site: its own URL
        assert "/private/memo" not in site.times


def test_a_page_that_keeps_failing_is_retried_later_then_dead_lettered(isolated: Settings, tmp_path: Path) -> None:
    asked: list[float] = []

    def busy(exchange: Exchange) -> None:
        asked.append(time.monotonic())
        exchange.reply(503, b"busy", [("Retry-After", "1")])

    page = (PAGES / "shore-power.html").read_bytes()
    routes = {"/down": busy, "/up": lambda exchange: exchange.reply(200, page, [("Content-Type", "text/html")])}
    with LoopbackServer(routes) as server:
        feed = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            f"<item><title>Down</title><link>{server.url('/down')}</link><description>x…</description></item>"
            f"<item><title>Up</title><link>{server.url('/up')}</link><description>y…</description></item>"
            "</channel></rss>"
        )
        server.routes["/feed.xml"] = lambda exchange: exchange.reply(200, feed.encode(), [])
        source = {"id": "flaky", "type": "feed", "url": server.url("/feed.xml"), "outlet": "O", "category": "c"}
        (tmp_path / "sources.yaml").write_text(
            yaml.safe_dump({"sources": [{**source, "trusted": True, "fetch_delay_s": 0}]}), encoding="utf-8"
        )
        settings = isolated.model_copy(
            update={
                "sources": tmp_path / "sources.yaml",
                "fetch_retry_base_s": 1.0,
                "fetch_max_attempts": 3,
                "robots_cache_s": 0,
            }
        )
        kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])
        _poll(settings)
        run_all(settings, until_idle_s=3.0)

        assert len(asked) == 3  # the first try and two retries, each at least Retry-After later
        assert asked[1] - asked[0] >= 1.0 and asked[2] - asked[1] >= 1.0
        (letter,) = deadletters.read(settings, stage=Stage.FETCH)
        assert letter.error_type == "gave_up" and "503" in letter.error_message
        assert sum(kafka.end_offsets(settings, settings.topic_fetch_retry).values()) == 2
        assert len(_docs(settings)) == 1  # the other page went on


def test_a_news_sitemap_index_brings_new_and_updated_pages_only(isolated: Settings, tmp_path: Path) -> None:
    lastmod = {"shore": "2024-06-03T08:00:00Z"}

    def news_sitemap(exchange: Exchange) -> None:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
            f"<url><loc>{SHORE}</loc><lastmod>{lastmod['shore']}</lastmod><news:news>"
            "<news:publication><news:name>Wire</news:name><news:language>en</news:language></news:publication>"
            "<news:publication_date>2024-06-03T07:15:00Z</news:publication_date>"
            "<news:title>Shore power trial begins</news:title><news:keywords>ports, energy</news:keywords>"
            f"</news:news></url><url><loc>{WEALTH}</loc></url></urlset>"
        )
        exchange.reply(200, gzip.compress(body.encode()), [("Content-Type", "application/x-gzip")])

    with Site() as site:
        site.server.routes["/sitemap-news.xml.gz"] = news_sitemap
        index = (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{site.server.url('/sitemap-news.xml.gz')}</loc></sitemap></sitemapindex>"
        )
        site.server.routes["/sitemap.xml"] = lambda exchange: exchange.reply(200, index.encode(), [])
        source = {
            "id": "wire-sitemap",
            "type": "sitemap",
            "url": site.server.url("/sitemap.xml"),
            "outlet": "Harbour City Wire",
            "category": "business",
            "trusted": True,
            "fetch_delay_s": 0.1,
        }
        (tmp_path / "sources.yaml").write_text(yaml.safe_dump({"sources": [source]}), encoding="utf-8")
        settings = isolated.model_copy(update={"sources": tmp_path / "sources.yaml"})
        kafka.ensure_topics(settings, [*settings.topics, *settings.fetch_topics])

        _poll(settings)
        run_all(settings, until_idle_s=3.0)
        base = f"http://127.0.0.1:{site.server.port}"
        docs = _docs(settings)
        assert set(docs) == {id_from_url(base + SHORE), id_from_url(base + WEALTH)}
        shore = docs[id_from_url(base + SHORE)]
        assert shore["title"] == "Shore power trial begins"  # the sitemap's news:title wins
        assert {"ports", "energy"} <= set(shore["tags"])  # news:keywords
        assert shore["published_at"] == "2024-06-03T07:15:00Z"
        assert "eastern terminals" in str(shore["body_text"])
        fetch_requests = sum(kafka.end_offsets(settings, settings.topic_fetch).values())
        assert fetch_requests == 2

        _poll(settings)  # nothing new, nothing changed
        assert sum(kafka.end_offsets(settings, settings.topic_fetch).values()) == fetch_requests
        lastmod["shore"] = "2024-06-04T09:00:00Z"
        _poll(settings)  # one page has a newer lastmod: only it goes on
        assert sum(kafka.end_offsets(settings, settings.topic_fetch).values()) == fetch_requests + 1
