"""Fetch and extract article pages served on loopback, as the fetch stage does it: pages per second per core.

The pages are the corpus's bodies inside a news-site page (navigation, a related-links aside, a footer,
canonical link and publication metadata), written to a temporary folder and served by a separate
`python -m http.server` process on 127.0.0.1, so the server's CPU is not counted. In this process, the
fetch stage's own path runs on `fetch_threads` threads: the polite client (robots.txt, host limits with no
delay, the caps), encoding detection, extraction and folding into the item. Pages per second per core
is pages over this process's CPU seconds; the wall-clock rate is reported beside it.
"""

from __future__ import annotations

import html
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import Settings
from pipeline.extract import extract_article
from pipeline.pages.content import from_extracted
from pipeline.pages.merge import fold_page
from pipeline.pages.polite import PoliteFetcher
from pipeline.sources.charset import decode_html
from pipeline.sources.fetch import FetchLimits
from schemas.models import FetchPolicy, RawItem

PAGES = 500
PAGE = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Bench Wire</title>
<link rel="canonical" href="/news/{n}.html"><meta property="article:published_time" content="2024-06-03T07:15:00Z">
<meta name="author" content="Bench Reporter"></head><body>
<header><nav><a href="/">Home</a> | <a href="/business/">Business</a> | <a href="/world/">World</a></nav></header>
<article><h1>{title}</h1>{body}</article>
<aside><h3>Related</h3><ul><li><a href="/r1">Another story</a></li><li><a href="/r2">And one more</a></li></ul></aside>
<footer><p>© Bench Wire. All rights reserved.</p></footer></body></html>"""


@dataclass
class PageThroughput:
    pages: int
    threads: int
    wall_s: float
    cpu_s: float
    failed: int
    mean_chars: float

    @property
    def per_s_per_core(self) -> float:
        return self.pages / self.cpu_s if self.cpu_s else 0.0

    @property
    def per_s(self) -> float:
        return self.pages / self.wall_s if self.wall_s else 0.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("the bench's page server did not start")


def measure(settings: Settings, items: list[RawItem], limit: int = PAGES) -> PageThroughput:
    sample = [item for item in items if item.content_html][:limit]
    folder = Path(tempfile.mkdtemp(prefix="newsflow-bench-pages-"))
    (folder / "news").mkdir()
    for n, item in enumerate(sample):
        page = PAGE.format(
            lang=item.source.language or "en", title=html.escape(item.title or ""), n=n, body=item.content_html
        )
        (folder / "news" / f"{n}.html").write_text(page, encoding="utf-8")
    server, port = _serve(folder)
    client = PoliteFetcher(FetchLimits(max_bytes=settings.fetch_max_page_bytes, user_agent=settings.user_agent))
    policy = FetchPolicy(host_concurrency=settings.fetch_threads, host_delay_s=0.0, trusted=True)

    def one(n: int) -> int:
        item = sample[n].model_copy(update={"url": f"http://127.0.0.1:{port}/news/{n}.html", "content_html": None})
        result = client.get(item.url or "", policy=policy, validators=None, deadline=time.monotonic() + 60)
        decoded = decode_html(result.content or b"", result.content_type)
        page = extract_article(decoded.text, url=result.url, language_hint=item.source.language)
        content = from_extracted(page, final_url=result.url, encoding=decoded.encoding, notes=[])
        folded = fold_page(item, content, status=result.status, fetched_at=datetime.now(UTC))
        return len(folded.content_html or "")

    try:
        one(0)  # robots.txt and a warm connection path, outside the measurement
        cpu, wall = time.process_time(), time.perf_counter()
        with ThreadPoolExecutor(settings.fetch_threads) as pool:
            sizes = list(pool.map(one, range(len(sample))))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    return PageThroughput(
        pages=len(sample),
        threads=settings.fetch_threads,
        wall_s=wall,
        cpu_s=cpu,
        failed=sum(1 for size in sizes if not size),
        mean_chars=sum(sizes) / len(sizes) if sizes else 0.0,
    )
