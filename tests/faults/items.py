"""A known set of raw items for fault tests: valid posts, updates of some, and invalid ones."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pipeline.emit import KafkaEmitter
from pipeline.normalize.ids import make_id
from pipeline.sources import jekyll
from schemas.models import RawItem, SourceInfo, SourceType

SOURCE = SourceInfo(
    id="fault-posts", type=SourceType.JEKYLL, outlet="故障测试报", category="faults", tags=["故障测试"], language="zh"
)
WORDS = [
    "跨境电商",
    "综试区",
    "产业",
    "生态圈",
    "物流",
    "金融",
    "服务",
    "平台",
    "企业",
    "市场",
    "政策",
    "数字化",
    "制造业",
    "出口",
    "消费",
    "创新",
]


def _post(n: int, revision: int, rng: random.Random) -> bytes:
    paragraphs = "".join(f"<p>{''.join(rng.choices(WORDS, k=30))}。</p>\n" for _ in range(rng.randint(3, 8)))
    return (
        "---\nlayout: post\n"
        f'title: "第{n}号测试新闻 第{revision}版 {rng.choice(WORDS)}"\n'
        f"date: 2024-01-{1 + n % 28:02d} 08:{n % 60:02d}:00 +0800\n"
        "categories: faults\ntags: 故障测试\n---\n"
        f"{paragraphs}\n<http://news.example.test/story?id={n}>\n\n[返回首页](//news.example.test/)\n"
    ).encode()


@dataclass
class Expected:
    versions: dict[str, int] = field(default_factory=dict)  # article id -> version (fetch ms) of its newest copy
    invalid: set[str] = field(default_factory=set)  # keys of items that must be dead-lettered
    raw_messages: int = 0


def push(
    emitter: KafkaEmitter, count: int, *, seed: int = 7, invalid_every: int = 97, update_every: int = 13, start: int = 0
) -> Expected:
    """Produce `count` stories (some updated once, later), plus invalid items; flush; return what to expect."""
    rng = random.Random(seed)
    expected = Expected()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    updates: list[int] = []
    for n in range(start, start + count):
        item = jekyll.parse(_post(n, 1, rng), SOURCE, path=f"/posts/{n}.html", fetched_at=base + timedelta(seconds=n))
        emitter.raw(item)
        expected.versions[item.item_id] = int(item.fetched_at.timestamp() * 1000)
        expected.raw_messages += 1
        if n % update_every == 0:
            updates.append(n)
        if n % invalid_every == 0:
            expected.invalid |= _push_invalid(emitter, n)
            expected.raw_messages += 2
    for n in updates:  # a newer revision of the same story, fetched later
        item = jekyll.parse(
            _post(n, 2, rng), SOURCE, path=f"/posts/{n}.html", fetched_at=base + timedelta(days=1, seconds=n)
        )
        emitter.raw(item)
        expected.versions[item.item_id] = int(item.fetched_at.timestamp() * 1000)
        expected.raw_messages += 1
    emitter.flush()
    return expected


def _push_invalid(emitter: KafkaEmitter, n: int) -> set[str]:
    not_json = make_id("fault", "not-json", str(n))
    emitter.send_bytes(emitter_topic(emitter), not_json, b"\x00\xff not a raw item", SOURCE.id)
    empty = RawItem(
        item_id=make_id("fault", "empty", str(n)), source=SOURCE, fetched_at=datetime.now(UTC), content_hash="0" * 64
    )
    emitter.raw(empty)  # no title and no body: InvalidItem at normalize
    return {not_json, empty.item_id}


def emitter_topic(emitter: KafkaEmitter) -> str:
    return emitter.settings.topic_raw
