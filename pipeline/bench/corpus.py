"""A deterministic corpus of raw news items, shaped as our source parsers produce them.

Same `seed`, same items, byte for byte. The mix (`Mix`) is explicit:
- languages: mostly Chinese, a share of English, and a little Japanese, German and French;
- bodies of about 500 to 10,000 characters of text (log-uniform: most are a few thousand, as news is),
  written as the seed document is: `<p>` paragraphs, `<p><strong>…</strong></p>` sub-heads, a bold
  lead-in now and then, and `<p class="em_media">（文章来源：…）</p>` at the end of most Chinese ones;
- sources of both kinds: Jekyll posts are written out in full (front matter, HTML, the bare source
  link `<http://…>` and the navigation line `[返回…](//…)｜[返回首页](//…)`) and read back with
  `pipeline.sources.jekyll.parse`, exactly as a poll does; feed entries are built as
  `pipeline.sources.feed` builds them (tracking parameters on the link, a guid, an RFC 822 date, a
  summary), and some feeds carry the link and navigation lines inside the content HTML;
- re-deliveries: *duplicates* (the same item fetched again later, unchanged) and *updates* (the same
  id fetched later with an edited body and an `updated` date), always after the item they repeat.
Fetch times rise with the position in the stream, so a later copy always has a higher version.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Literal

from pipeline.bench.textgen import Theme, Writer, make_theme
from pipeline.normalize.dates import default_zone
from pipeline.normalize.ids import fingerprint, item_id
from pipeline.sources import jekyll
from schemas.models import RawItem, SourceInfo, SourceType

Kind = Literal["original", "duplicate", "update"]

# The seed document's body is 2,451 characters of text: "seed-sized" items are that long, ±5%.
SEED_BODY_CHARS = 2451
START = datetime(2024, 6, 1, 0, 0, 0, tzinfo=UTC)
FETCH_STEP = timedelta(milliseconds=500)

ZH_POSTS = (
    SourceInfo(
        id="21jingji-posts",
        type=SourceType.JEKYLL,
        outlet="21世纪经济报道",
        category="21shijijingjibaodao",
        tags=["21世纪经济报道新闻"],
        language="zh",
    ),
    SourceInfo(
        id="zqsb-posts",
        type=SourceType.JEKYLL,
        outlet="证券时报",
        category="zhengquanshibao",
        tags=["证券时报新闻"],
        language="zh",
    ),
)
ZH_FEEDS = (
    SourceInfo(
        id="21jingji-feed",
        type=SourceType.FEED,
        outlet="21世纪经济报道",
        category="21shijijingjibaodao",
        tags=["21世纪经济报道新闻"],
        language="zh",
    ),
    # A Chinese feed that declares no language: detection has to decide.
    SourceInfo(id="caijing-feed", type=SourceType.FEED, outlet="财经观察", category="caijing", tags=[]),
)
EN_FEED = SourceInfo(
    id="harbour-wire",
    type=SourceType.FEED,
    outlet="Harbour City Wire",
    category="business",
    tags=["wire"],
    language="en",
)
WORLD_FEED = SourceInfo(id="world-wire", type=SourceType.FEED, outlet="World Wire", category="world", tags=[])
FEED_URLS = {
    "21jingji-feed": "https://finews.withounder.com/category/21shijijingjibaodao.rss",
    "caijing-feed": "https://caijing.example.cn/rss/latest.xml",
    "harbour-wire": "https://wire.harbour-city.example/business/atom.xml",
    "world-wire": "https://world-wire.example/feed.xml",
}
CATEGORY_NAMES = {"21shijijingjibaodao": "21世纪经济报道新闻", "zhengquanshibao": "证券时报新闻"}


@dataclass(frozen=True)
class Mix:
    """What a corpus is made of: shares of languages and re-deliveries, and the range of body lengths."""

    languages: Mapping[str, float] = field(
        default_factory=lambda: {"zh": 0.80, "en": 0.14, "ja": 0.02, "de": 0.02, "fr": 0.02}
    )
    duplicates: float = 0.05
    updates: float = 0.05
    min_chars: int = 500
    max_chars: int = 9_900  # a paragraph may overshoot by a sentence: text stays under 10,000
    posts_share: float = 0.5  # of Chinese originals, the share read from Jekyll posts (the rest from feeds)
    trailer_in_feed_share: float = 0.5  # of Chinese feed entries, the share with link and navigation in the HTML


SEED_SIZED = Mix(
    languages={"zh": 1.0},
    duplicates=0.0,
    updates=0.0,
    min_chars=round(SEED_BODY_CHARS * 0.95),
    max_chars=round(SEED_BODY_CHARS * 1.05),
    posts_share=1.0,
)
UNIQUE = Mix(duplicates=0.0, updates=0.0)


@dataclass(frozen=True)
class CorpusItem:
    raw: RawItem
    kind: Kind
    language: str  # the language the text was written in
    target_chars: int  # the body length asked of the generator


@dataclass(frozen=True)
class _Story:
    """What it takes to write an item again (for an update)."""

    language: str
    source: SourceInfo
    theme: Theme
    title: str
    paragraphs: tuple[str, ...]  # HTML paragraphs, without attribution and trailer
    attribution: bool
    trailer_in_html: bool
    link: str
    guid: str | None
    published: datetime
    target_chars: int


def generate(n: int, seed: int, mix: Mix | None = None, *, start: datetime = START) -> list[CorpusItem]:
    """`n` items (re-deliveries included) in stream order; the same arguments give the same items."""
    mix = mix or Mix()
    rng = random.Random(seed)
    languages, weights = zip(*mix.languages.items(), strict=True)
    items: list[CorpusItem] = []
    latest: list[tuple[_Story, CorpusItem]] = []  # the newest copy of every story so far
    for position in range(n):
        fetched_at = start + position * FETCH_STEP
        roll = rng.random()
        if latest and roll < mix.duplicates:
            story, previous = rng.choice(latest)
            raw = previous.raw.model_copy(update={"fetched_at": fetched_at})
            items.append(CorpusItem(raw, "duplicate", story.language, story.target_chars))
            continue
        if latest and roll < mix.duplicates + mix.updates:
            slot = rng.randrange(len(latest))
            story = _edited(rng, latest[slot][0])
            item = CorpusItem(
                _raw(story, fetched_at, updated=fetched_at - timedelta(minutes=5)),
                "update",
                story.language,
                story.target_chars,
            )
            latest[slot] = (story, item)
            items.append(item)
            continue
        language = rng.choices(languages, weights)[0]
        story = _story(rng, language, mix, fetched_at, position)
        item = CorpusItem(_raw(story, fetched_at), "original", language, story.target_chars)
        latest.append((story, item))
        items.append(item)
    return items


def payloads(items: list[CorpusItem]) -> list[bytes]:
    """The Kafka message values of the items (what `KafkaEmitter.raw` sends)."""
    return [item.raw.model_dump_json().encode() for item in items]


def _target_chars(rng: random.Random, mix: Mix) -> int:
    if mix.min_chars >= mix.max_chars:
        return mix.min_chars
    return round(math.exp(rng.uniform(math.log(mix.min_chars), math.log(mix.max_chars))))


def _source(rng: random.Random, language: str, mix: Mix) -> SourceInfo:
    if language == "zh":
        return rng.choice(ZH_POSTS) if rng.random() < mix.posts_share else rng.choice(ZH_FEEDS)
    return EN_FEED if language == "en" else WORLD_FEED


def _story(rng: random.Random, language: str, mix: Mix, fetched_at: datetime, position: int) -> _Story:
    source = _source(rng, language, mix)
    theme = make_theme(rng, language)
    writer = Writer(rng, theme)
    target = _target_chars(rng, mix)
    published = fetched_at - timedelta(seconds=rng.randint(60, 36 * 3600))
    link, guid = _link(rng, source, published, position)
    zh = language == "zh"
    return _Story(
        language=language,
        source=source,
        theme=theme,
        title=writer.title(),
        paragraphs=tuple(_paragraphs(rng, writer, target, zh)),
        attribution=zh and rng.random() < 0.85,
        trailer_in_html=zh and source.type is SourceType.FEED and rng.random() < mix.trailer_in_feed_share,
        link=link,
        guid=guid,
        published=published,
        target_chars=target,
    )


def _paragraphs(rng: random.Random, writer: Writer, target: int, cjk: bool) -> list[str]:
    """HTML paragraphs whose text adds up to about `target` characters (one line break between each)."""
    low, high = (60, 320) if cjk else (160, 700)
    html: list[str] = []
    size = 0
    until_subhead = rng.randint(3, 8)
    while size < target:
        if until_subhead == 0 and target - size > 200:
            subhead = writer.subhead()
            html.append(f"<p><strong>{subhead}</strong></p>")
            size += len(subhead) + 1
            until_subhead = rng.randint(3, 8)
            continue
        text = writer.paragraph(min(rng.randint(low, high), max(target - size - 1, 20)))
        size += len(text) + 1
        until_subhead -= 1
        cut = _first_sentence_end(text) if rng.random() < 0.08 else 0
        if 0 < cut < len(text):  # a bold lead-in sentence inside the paragraph, as in the seed
            html.append(f"<p><strong>{_escape(text[:cut])}</strong>{_escape(text[cut:])}</p>")
        else:
            html.append(f"<p>{_escape(text)}</p>")
    return html


def _first_sentence_end(text: str) -> int:
    ends = [i + 1 for i, char in enumerate(text[:400]) if char in "。！？.!?"]
    return ends[0] if ends else 0


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(rng: random.Random, source: SourceInfo, published: datetime, position: int) -> tuple[str, str | None]:
    """(link as the source gives it, guid or None)."""
    serial = f"{published:%Y%m%d}{position:010d}"
    if source.language == "zh" or source.id == "caijing-feed":
        url = f"http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW{serial}"
        if source.type is SourceType.JEKYLL:
            return url, None
        return f"{url}&utm_source=rss&utm_medium=feed", f"{source.id}-NW{serial}"
    slug = "-".join(str(rng.randint(100, 999)) for _ in range(3))
    if source.id == "harbour-wire":
        return (
            f"/business/{published:%Y/%m/%d}/story-{slug}?utm_source=atom&ref=homepage",
            f"urn:harbour-wire:{serial}",
        )
    return f"https://world-wire.example/{published:%Y/%m}/{slug}.html", f"world-wire-{serial}"


def _edited(rng: random.Random, story: _Story) -> _Story:
    """The story as its outlet updated it: one more paragraph, sometimes a new title."""
    writer = Writer(rng, story.theme)
    paragraphs = (*story.paragraphs, f"<p>{_escape(writer.paragraph(rng.randint(60, 200)))}</p>")
    title = writer.title() if rng.random() < 0.3 else story.title
    return replace(story, paragraphs=paragraphs, title=title)


def _body_html(story: _Story) -> str:
    body = "\n ".join(story.paragraphs)
    if story.attribution:
        body += f'<p class="em_media">（文章来源：{story.source.outlet}）</p>'
    return body


def _navigation(source: SourceInfo) -> str:
    name = CATEGORY_NAMES.get(source.category or "", source.outlet or source.id)
    return (
        f"[返回{name}](//finews.withounder.com/category/{source.category}.html)｜[返回首页](//finews.withounder.com/)"
    )


def _raw(story: _Story, fetched_at: datetime, *, updated: datetime | None = None) -> RawItem:
    if story.source.type is SourceType.JEKYLL:
        return _post(story, fetched_at, updated)
    return _feed_entry(story, fetched_at, updated)


def _post(story: _Story, fetched_at: datetime, updated: datetime | None) -> RawItem:
    """Write the post file and read it back with the Jekyll parser."""
    zone = default_zone(story.language)
    front = [
        "layout: post",
        f"title: {json.dumps(story.title, ensure_ascii=False)}",
        f"date: {story.published.astimezone(zone):%Y-%m-%d %H:%M:%S %z}",
        f"categories: {story.source.category}",
        f"tags: {story.source.tags[0] if story.source.tags else 'news'}",
    ]
    if updated is not None:
        front.append(f"last_modified_at: {updated.astimezone(zone):%Y-%m-%d %H:%M:%S %z}")
    text = (
        "---\n" + "\n".join(front) + "\n---\n" + _body_html(story)
        + f"\n\n<{story.link}>\n\n{_navigation(story.source)}\n"
    )  # fmt: skip
    name = f"{story.published:%Y-%m-%d}-{story.link.rsplit('=', 1)[-1]}.md"
    return jekyll.parse(text.encode("utf-8"), story.source, path=name, fetched_at=fetched_at)


def _feed_entry(story: _Story, fetched_at: datetime, updated: datetime | None) -> RawItem:
    """The RawItem `pipeline.sources.feed` makes of an entry with this content."""
    content = _body_html(story)
    if story.trailer_in_html:
        canonical = story.link.split("&utm_", 1)[0]
        content += f"\n<p>{_escape(canonical)}</p>\n<p>{_navigation(story.source)}</p>"
    summary = story.paragraphs[0]
    base_url = FEED_URLS[story.source.id]
    published = format_datetime(story.published)
    updated_text = format_datetime(updated) if updated else None
    tags = list(story.source.tags[:1])
    language = story.source.language
    identifier = item_id(
        url=story.link,
        base_url=base_url,
        guid=story.guid,
        source_id=story.source.id,
        outlet=story.source.outlet or story.source.id,
        title=story.title,
        published=published,
        content=content,
        zone=default_zone(language),
    )
    if identifier is None:  # cannot happen: every entry has a link
        raise ValueError(f"no id for {story.link!r}")
    return RawItem(
        item_id=identifier,
        source=story.source,
        fetched_at=fetched_at,
        url=story.link,
        base_url=base_url,
        guid=story.guid,
        title=story.title,
        published=published,
        updated=updated_text,
        content_html=content,
        summary_html=summary,
        tags=tags,
        authors=[story.theme.people[0]] if story.theme.people[0] else [],
        language=language,
        content_hash=fingerprint(
            story.title, story.link, story.guid, published, updated_text, content, summary, "\x1f".join(tags)
        ),
    )
