"""Copies of one article from several sources merge into one document, in any order, any number of times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations

from pipeline.provenance import combine, first_document, fold, merge, sources_of
from schemas.models import Article, SourceType
from tests.support.articles import make_article

T0 = datetime(2022, 5, 5, 14, 0, tzinfo=UTC)


def _copy(source: str, minutes: int, tags: list[str], *, title: str = "广东8个跨境电商综试区方案同日出炉") -> Article:
    fetched = T0 + timedelta(minutes=minutes)
    return make_article(
        "seed",
        title=title,
        when=fetched,
        source_id=source,
        source_type=SourceType.JEKYLL if source.endswith("posts") else SourceType.FEED,
        outlet="21世纪经济报道",
        tags=tags,
        url="http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW202205052369313688",
        version=int(fetched.timestamp() * 1000),
        content_hash=f"{source}-{minutes}",
        story_id="story-1",
    )


POSTS = _copy("seed-posts", 0, ["21世纪经济报道新闻", "文件夹"])
FEED = _copy("seed-feed", 5, ["订阅"], title="广东8个跨境电商综试区方案同日出炉（订阅版）")
POSTS_AGAIN = _copy("seed-posts", 10, ["21世纪经济报道新闻"])


def test_a_first_copy_lists_its_own_source() -> None:
    document = merge(None, POSTS)
    assert document is not None and [s.source_id for s in document.sources] == ["seed-posts"]
    assert document.sources[0].tags == ["21世纪经济报道新闻", "文件夹"] and document.story_id == "story-1"


def test_whichever_lands_last_the_document_has_both_sources_and_all_tags() -> None:
    feed_last = merge(merge(None, POSTS), FEED)
    posts_last = merge(merge(None, FEED), POSTS)
    assert feed_last == posts_last and feed_last is not None
    assert [s.source_id for s in feed_last.sources] == ["seed-feed", "seed-posts"]
    assert set(feed_last.tags) == {"21世纪经济报道新闻", "文件夹", "订阅"}
    assert feed_last.tags[0] == "订阅"  # the newest copy's tags first
    assert (feed_last.title, feed_last.source_id, feed_last.version) == (FEED.title, "seed-feed", FEED.version)


def test_any_order_and_repetition_gives_the_same_document() -> None:
    results = set()
    for order in permutations([POSTS, FEED, POSTS_AGAIN, FEED]):
        document: Article | None = None
        for copy in order:
            document = merge(document, copy) or document
        assert document is not None
        results.add(document.model_dump_json())
    assert len(results) == 1
    assert fold([FEED, POSTS_AGAIN, POSTS]).model_dump_json() in results


def test_re_polling_one_source_updates_its_entry_and_keeps_the_other() -> None:
    document = merge(merge(merge(None, POSTS), FEED), POSTS_AGAIN)
    assert document is not None
    by_source = {s.source_id: s for s in document.sources}
    assert by_source["seed-posts"].tags == ["21世纪经济报道新闻"]  # the newest copy of that source
    assert by_source["seed-feed"].tags == ["订阅"]
    assert "文件夹" not in document.tags  # the posts source itself dropped it; the feed never had it
    assert document.title == POSTS_AGAIN.title


def test_a_stale_or_repeated_copy_changes_nothing() -> None:
    document = merge(merge(None, POSTS_AGAIN), FEED)
    assert merge(document, POSTS) is None  # older than the stored copy of its source, and than the content
    assert merge(document, FEED) is None and merge(document, POSTS_AGAIN) is None


def test_documents_written_before_sources_were_kept_count_as_their_own_source() -> None:
    legacy = merge(None, POSTS)
    assert legacy is not None
    old = legacy.model_copy(update={"sources": [], "story_id": None})
    assert [s.source_id for s in sources_of(old)] == ["seed-posts"]
    updated = merge(old, FEED)
    assert updated is not None and [s.source_id for s in updated.sources] == ["seed-feed", "seed-posts"]


def test_an_article_without_a_story_is_its_own() -> None:
    document = merge(None, POSTS.model_copy(update={"story_id": None}))
    assert document is not None and document.story_id == "seed"


def test_a_first_document_with_a_story_is_the_copy_combined_with_itself() -> None:
    merged = fold([POSTS, FEED, POSTS_AGAIN])  # a document with several sources and tags
    no_story = POSTS.model_copy(update={"story_id": None})
    for article in (POSTS, FEED, merged, no_story):
        for story in (None, "story-2", article.id):
            given = article if story is None else article.model_copy(update={"story_id": story})
            expected = combine(given, given)
            document = first_document(article, story)
            assert document == expected and document.model_dump_json() == expected.model_dump_json()
            assert document.model_fields_set == expected.model_fields_set
    assert first_document(no_story).story_id == no_story.id
