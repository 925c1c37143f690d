"""One document per article, however many sources reach it: copies merge instead of overwriting. Pure.

A feed and a post folder can carry the same story (same canonical URL, hence the same article id). Each
copy that reaches the index is merged into the document:

- `sources`: one entry per source id, the newest copy of each (by fetch time); nothing a source said is
  dropped when another source is polled again;
- content (title, body, dates, outlet, category, url, keywords, ...): from the newest copy (highest
  `version`, the fetch time in ms; then source id and content hash, so every order gives the same answer);
- `tags`: the union of every source's tags, the newest copy's first;
- `story_id`: the newest copy's (the story grouping gives every copy of one article the same), and the
  article's own id when no copy has one, so every document can be collapsed by story.

`merge` is a join: commutative, associative and idempotent. Copies merged in any order, any number of
times, give the same document, and an old copy replayed after a newer one changes nothing (`merge` returns
None), which is what external versioning used to guarantee and still does here: the index worker writes a
merged document only when it changed, conditionally on the version it read.
"""

from __future__ import annotations

from collections.abc import Iterable

from schemas.models import Article, ArticleSource


def _union(groups: Iterable[Iterable[str]]) -> list[str]:
    """Tags of all groups in order, without case-insensitive repeats (they were cleaned by the normalizer)."""
    seen: set[str] = set()
    tags: list[str] = []
    for group in groups:
        for tag in group:
            key = tag.casefold()
            if tag and key not in seen:
                seen.add(key)
                tags.append(tag)
    return tags


def sources_of(article: Article) -> list[ArticleSource]:
    """The article's sources; a copy from the normalizer (or a document written before sources were kept)
    has its own source fields as its one source."""
    if article.sources:
        return list(article.sources)
    return [
        ArticleSource(
            source_id=article.source_id,
            source_type=article.source_type,
            outlet=article.outlet,
            url=article.url,
            fetched_at=article.fetched_at,
            tags=list(article.tags),
        )
    ]


def _newest(a: ArticleSource, b: ArticleSource) -> ArticleSource:
    return max(a, b, key=lambda s: (s.fetched_at, s.url or "", tuple(s.tags), s.outlet, s.source_type.value))


def _primary_key(article: Article) -> tuple[int, str, str]:
    return (article.version, article.source_id, article.content_hash)


def merged_sources(groups: Iterable[Iterable[ArticleSource]]) -> list[ArticleSource]:
    """One entry per source id (the newest), sorted by source id."""
    by_id: dict[str, ArticleSource] = {}
    for group in groups:
        for source in group:
            current = by_id.get(source.source_id)
            by_id[source.source_id] = source if current is None else _newest(current, source)
    return [by_id[source_id] for source_id in sorted(by_id)]


def combine(a: Article, b: Article) -> Article:
    """The document of two copies of one article (same id)."""
    primary = max(a, b, key=_primary_key)
    secondary = b if primary is a else a
    story = primary.story_id or secondary.story_id or primary.id  # no story known: its own
    return _document(primary, merged_sources((sources_of(a), sources_of(b))), story)


def _document(primary: Article, sources: list[ArticleSource], story_id: str) -> Article:
    """`primary` with all the copies' `sources`, their tags (its own source's first) and `story_id`."""
    own = [s for s in sources if s.source_id == primary.source_id]
    others = [s for s in sources if s.source_id != primary.source_id]
    return primary.model_copy(
        update={
            "sources": sources,
            "tags": _union([*(s.tags for s in own), *(s.tags for s in others)]),
            "story_id": story_id,
        }
    )


def merge(existing: Article | None, incoming: Article) -> Article | None:
    """The document once `incoming` reached it, or None when that changes nothing (a stale or repeated copy)."""
    if existing is None:
        return first_document(incoming)
    document = combine(existing, incoming)
    return None if document == existing else document


def first_document(article: Article, story_id: str | None = None) -> Article:
    """The document of an article that has none yet (its own source listed in `sources`): `combine(article,
    article)`, in one copy of the article. `story_id`: the story to give it (as if the article had it)."""
    story = article.story_id if story_id is None else story_id
    return _document(article, merged_sources((sources_of(article),)), story or article.id)


def fold(copies: Iterable[Article]) -> Article:
    """Several copies of one article (e.g. from one batch) as one."""
    result: Article | None = None
    for copy in copies:
        result = copy if result is None else combine(result, copy)
    if result is None:
        raise ValueError("fold needs at least one copy")
    return combine(result, result)
