"""The messages newsflow puts on Kafka and the documents it writes to the index.

Each model carries `schema_version`; a breaking change bumps it, and the JSON Schemas
exported next to this file (see `schemas.export`) are what downstream apps read.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

RAW_ITEM_VERSION: Literal[1] = 1
ARTICLE_VERSION: Literal[1] = 1
DEAD_LETTER_VERSION: Literal[1] = 1
FETCH_REQUEST_VERSION: Literal[1] = 1


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceType(StrEnum):
    FEED = "feed"
    JEKYLL = "jekyll"
    GIT = "git"
    SITEMAP = "sitemap"


class SourceInfo(_Message):
    """What the sources file says about the source an item came from."""

    id: str = Field(description="Slug of the source in the sources file.")
    type: SourceType
    outlet: str | None = Field(
        default=None, description="Outlet of every item, e.g. 21世纪经济报道; None: each item's own (see `outlets`)."
    )
    category: str | None = Field(
        default=None, description="Category of every item, e.g. 21shijijingjibaodao; None: each item's own."
    )
    tags: list[str] = Field(default_factory=list, description="Default tags of every item of the source.")
    language: str | None = Field(default=None, description="Language hint (ISO 639-1), if the source declares one.")
    outlets: dict[str, str] = Field(
        default_factory=dict, description="Outlet names by item category, e.g. {emnews: 东方财富}."
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of the dates the source writes without one (default: by language)."
    )


class ContentFormat(StrEnum):
    HTML = "html"
    MARKDOWN = "markdown"


class Validators(_Message):
    """HTTP cache validators of the fetch that produced an item."""

    etag: str | None = None
    last_modified: str | None = None


class PageFetch(_Message):
    """How the fetch stage got an item's article page."""

    link_id: str = Field(description="The item's id before the page was fetched (the id of the link it came with).")
    requested_url: str
    final_url: str = Field(description="Where the page was read, after redirects.")
    canonical_url: str | None = Field(default=None, description="The page's own canonical URL, when it is accepted.")
    status: int = Field(description="200, or 304 when the stored copy of the page was still current.")
    fetched_at: AwareDatetime
    encoding: str | None = None
    editor: str | None = Field(default=None, description="The editor the page credits (责任编辑), cut from its text.")
    original_title: str | None = Field(default=None, description="原标题 of a reprint, cut from the page's text.")
    attribution: str | None = Field(default=None, description="`文章来源：X` line cut from the page's text.")
    notes: list[str] = Field(default_factory=list, description="What was guessed, refused or filled in from the page.")


class RawItem(_Message):
    """One entry of a feed or one post of a folder, as the source gave it."""

    schema_version: Literal[1] = RAW_ITEM_VERSION
    item_id: str = Field(description="Stable id; equal to the id of the Article it becomes.")
    source: SourceInfo
    fetched_at: AwareDatetime
    url: str | None = Field(default=None, description="Link of the item as given (may be relative).")
    base_url: str | None = Field(default=None, description="Where the item was fetched, to resolve relative links.")
    guid: str | None = None
    title: str | None = None
    published: str | None = Field(default=None, description="Publication date as the source wrote it.")
    updated: str | None = Field(default=None, description="Update date as the source wrote it.")
    content_html: str | None = Field(
        default=None, description="Full body when the source has one, in `content_format` (HTML unless said)."
    )
    content_format: ContentFormat = Field(
        default=ContentFormat.HTML, description="markdown: the body is Markdown (a post), rendered by the normalizer."
    )
    summary_html: str | None = Field(default=None, description="Summary or description (HTML).")
    tags: list[str] = Field(default_factory=list, description="Tags the item itself carries.")
    categories: list[str] = Field(
        default_factory=list, description="The item's own categories in order (a post's category path, feed terms)."
    )
    category: str | None = Field(
        default=None, description="The item's category by its source type's rule (see the parser), if any."
    )
    outlet: str | None = Field(
        default=None, description="Outlet the item names itself: a post's `author`, a feed entry's <source>."
    )
    authors: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, description="Language the item or its feed declares.")
    content_hash: str = Field(description="sha256 of the raw content; a changed hash means a changed item.")
    validators: Validators = Field(default_factory=Validators)
    path: str | None = Field(default=None, description="File the post was read from (jekyll sources).")
    page: PageFetch | None = Field(
        default=None, description="Set when the fetch stage downloaded the item's page and took its article from it."
    )


class FetchPolicy(_Message):
    """How politely a source's pages are fetched, carried with each request (from the sources file)."""

    host_concurrency: int = Field(default=2, ge=1, le=16, description="Requests at once to one host.")
    host_delay_s: float = Field(default=1.0, ge=0, le=3600, description="Least seconds between requests to one host.")
    trusted: bool = Field(default=False, description="May reach loopback and private addresses (tests, intranets).")


class FetchRequest(_Message):
    """A raw item whose article is on its linked page: the message of the fetch topics."""

    schema_version: Literal[1] = FETCH_REQUEST_VERSION
    item: RawItem
    policy: FetchPolicy = Field(default_factory=FetchPolicy)
    attempt: int = Field(default=0, ge=0, description="Transient failures so far.")
    not_before: AwareDatetime | None = Field(default=None, description="Not to be fetched before this time.")
    last_error: str | None = None


class ArticleSource(_Message):
    """One source an article was reached from (a feed and a post folder can carry the same story)."""

    source_id: str = Field(description="Id of the source in the sources file.")
    source_type: SourceType
    outlet: str
    url: str | None = Field(default=None, description="The article's canonical URL as this source linked it.")
    fetched_at: AwareDatetime = Field(description="When this source's copy was fetched (its newest), UTC.")
    tags: list[str] = Field(default_factory=list, description="The tags this source gave the article.")


class Article(_Message):
    """A normalized, tagged news article: the document schema of the index."""

    schema_version: Literal[1] = ARTICLE_VERSION
    id: str = Field(description="Stable article id; also the Kafka key and the Elasticsearch _id.")
    url: str | None = Field(description="Canonical URL (tracking parameters removed).")
    title: str
    summary: str = Field(description="The lead of the article, bounded in length.")
    body_text: str = Field(description="Clean text, one paragraph per line, no markup.")
    attribution: str | None = Field(default=None, description="Source attribution found in the body, e.g. 文章来源.")
    editor: str | None = Field(default=None, description="Editor credited in the body (责任编辑), e.g. 王蒙.")
    original_title: str | None = Field(default=None, description="The story's original headline (原标题), if given.")
    published_at: AwareDatetime | None = Field(description="Publication time, UTC.")
    language: str = Field(description="ISO 639-1 code detected from the text, or 'und'.")
    outlet: str
    category: str
    tags: list[str]
    keywords: list[str]
    tickers: list[str] = Field(
        default_factory=list,
        description="Stock codes the story names, normalized: 600519.SH, 000001.SZ, 430047.BJ, 0388.HK, NIO.US.",
    )
    authors: list[str] = Field(default_factory=list)
    char_count: int = Field(description="Characters in body_text.")
    content_hash: str = Field(description="sha256 of title and body_text.")
    source_id: str
    source_type: SourceType
    fetched_at: AwareDatetime
    normalized_at: AwareDatetime
    version: int = Field(
        description="Fetch time in ms of the copy whose content the document shows (the newest copy wins)."
    )
    pipeline_version: str
    story_id: str | None = Field(
        default=None,
        description=(
            "The story this article is a copy or near-copy of: the id of the story's founding article "
            "(its own id when it is the first). Copies across sources, outlets and days share it."
        ),
    )
    sources: list[ArticleSource] = Field(
        default_factory=list,
        description=(
            "Every source the article was reached from, one entry per source id (its newest copy); "
            "`tags` is the union of theirs. The top-level source fields are those of the newest copy."
        ),
    )


class Stage(StrEnum):
    POLL = "poll"
    FETCH = "fetch"
    NORMALIZE = "normalize"
    INDEX = "index"


class DeadLetter(_Message):
    """Something that could not go on, with the reason and what it was."""

    schema_version: Literal[1] = DEAD_LETTER_VERSION
    stage: Stage
    error_type: str = Field(description="Short machine-readable kind of error, e.g. invalid_item.")
    error_message: str = Field(description="What went wrong, for a person.")
    source_id: str | None = None
    item_id: str | None = None
    topic: str | None = Field(default=None, description="Topic the payload was read from.")
    partition: int | None = None
    offset: int | None = None
    payload: str = Field(description="The original payload (UTF-8 text, or base64 when payload_encoding says so).")
    payload_encoding: Literal["utf-8", "base64"] = "utf-8"
    failed_at: datetime
    pipeline_version: str
    details: dict[str, Any] = Field(default_factory=dict)
