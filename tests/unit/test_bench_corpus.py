"""The bench's corpus generator: deterministic, with the mix it promises, and every item a valid article."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest

from pipeline.bench.corpus import SEED_BODY_CHARS, SEED_SIZED, CorpusItem, Mix, generate, payloads
from pipeline.transform import to_article
from schemas.models import Article, RawItem, SourceType

N = 1500
NORMALIZED_AT = datetime(2024, 7, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def items() -> list[CorpusItem]:
    return generate(N, seed=11)


@pytest.fixture(scope="module")
def articles(items: list[CorpusItem]) -> list[Article]:
    return [to_article(item.raw, normalized_at=NORMALIZED_AT) for item in items]


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    assert payloads(generate(120, seed=3)) == payloads(generate(120, seed=3))
    assert payloads(generate(120, seed=3)) != payloads(generate(120, seed=4))


def test_exactly_n_items_in_stream_order(items: list[CorpusItem]) -> None:
    assert len(items) == N
    fetched = [item.raw.fetched_at for item in items]
    assert fetched == sorted(fetched) and len(set(fetched)) == N


@pytest.mark.parametrize(("language", "share"), sorted(Mix().languages.items()))
def test_language_shares(items: list[CorpusItem], language: str, share: float) -> None:
    written = Counter(item.language for item in items)
    assert written[language] / N == pytest.approx(share, abs=max(0.03, share / 2))
    assert written[language] > 0


def test_duplicate_and_update_shares(items: list[CorpusItem]) -> None:
    kinds = Counter(item.kind for item in items)
    assert kinds["duplicate"] / N == pytest.approx(Mix().duplicates, abs=0.02)
    assert kinds["update"] / N == pytest.approx(Mix().updates, abs=0.02)
    assert kinds["original"] == len({item.raw.item_id for item in items})


def test_redeliveries_follow_their_original_with_a_later_fetch(items: list[CorpusItem]) -> None:
    latest: dict[str, RawItem] = {}
    for item in items:
        raw = item.raw
        if item.kind == "original":
            assert raw.item_id not in latest
        else:
            before = latest[raw.item_id]  # the id was seen earlier in the stream
            assert raw.fetched_at > before.fetched_at
            if item.kind == "duplicate":
                assert raw.content_hash == before.content_hash
                assert raw.model_copy(update={"fetched_at": before.fetched_at}) == before
            else:
                assert raw.content_hash != before.content_hash
                assert raw.updated
        latest[raw.item_id] = raw


def test_every_item_becomes_an_article_in_its_language(items: list[CorpusItem], articles: list[Article]) -> None:
    mismatched = [(i.language, a.language) for i, a in zip(items, articles, strict=True) if i.language != a.language]
    assert not mismatched
    assert {a.id for a in articles} == {i.raw.item_id for i in items}


def test_body_lengths_span_the_range(items: list[CorpusItem], articles: list[Article]) -> None:
    mix = Mix()
    originals = [a.char_count for i, a in zip(items, articles, strict=True) if i.kind == "original"]
    assert min(originals) >= mix.min_chars - 10
    assert max(originals) <= 10_000
    assert any(n < 1000 for n in originals) and any(n > 6000 for n in originals)
    assert 2000 < sum(originals) / len(originals) < 4500  # log-uniform 500..9,900: mean about 3,200
    updated = [a.char_count for i, a in zip(items, articles, strict=True) if i.kind == "update"]
    assert max(updated) <= 10_000 + 2 * 400  # an update adds a paragraph (and may be updated again)


def test_seed_sized_items_are_the_seed_length() -> None:
    sized = generate(60, seed=2, mix=SEED_SIZED)
    counts = [to_article(item.raw, normalized_at=NORMALIZED_AT).char_count for item in sized]
    assert all(SEED_BODY_CHARS * 0.93 <= n <= SEED_BODY_CHARS * 1.1 for n in counts), counts
    assert {item.language for item in sized} == {"zh"}
    assert {item.kind for item in sized} == {"original"}


def test_chinese_bodies_are_shaped_like_the_seed(items: list[CorpusItem], articles: list[Article]) -> None:
    chinese = [(i, a) for i, a in zip(items, articles, strict=True) if i.language == "zh"]
    html = [i.raw.content_html or "" for i, _ in chinese]
    assert all(h.startswith("<p>") for h in html)
    assert sum("<p><strong>" in h for h in html) / len(html) > 0.5  # bold sub-heads
    with_attribution = [a for i, a in chinese if '<p class="em_media">（文章来源：' in (i.raw.content_html or "")]
    assert len(with_attribution) / len(chinese) == pytest.approx(0.85, abs=0.05)
    assert all(a.attribution == f"文章来源：{a.outlet}" for a in with_attribution)
    for _, article in chinese:
        body = article.body_text
        assert "<" not in body and "返回首页" not in body and "http" not in body and "文章来源" not in body
        assert article.keywords and article.summary and article.published_at


def test_both_source_shapes_with_their_trailers(items: list[CorpusItem], articles: list[Article]) -> None:
    posts = [i for i in items if i.raw.source.type is SourceType.JEKYLL]
    feeds = [i for i in items if i.raw.source.type is SourceType.FEED]
    assert posts and feeds
    # Posts went through the Jekyll parser: link and navigation lines are gone, the link is the URL.
    assert all(i.raw.path and i.raw.url and "返回首页" not in (i.raw.content_html or "") for i in posts)
    # Some Chinese feed entries carry the link and navigation lines inside their HTML.
    trailing = [i for i in feeds if "返回首页" in (i.raw.content_html or "")]
    assert trailing
    assert all(re.search(r"<p>http://\S+</p>", i.raw.content_html or "") for i in trailing)
    # Feed links carry tracking parameters; the canonical URL drops them.
    by_id = {a.id: a for a in articles}
    assert all("utm_" not in (by_id[i.raw.item_id].url or "") for i in feeds)
    assert all(i.raw.guid and i.raw.summary_html for i in feeds)
