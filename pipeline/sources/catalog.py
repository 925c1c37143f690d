"""The sources file: which sources to poll, how often, and what they are.

`load_sources` validates the whole file and fails with one message naming the source and field.
`outlet` and `category` are optional: without them each item's own is used (see `pipeline.transform`);
`outlets` maps item categories to outlet names, `timezone` is the zone of dates written without one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError
from pipeline.normalize.dates import named_zone
from schemas.models import FetchPolicy, SourceInfo, SourceType

FetchArticle = Literal["auto", "always", "never"]

_INTERVAL = re.compile(r"^(\d+)\s*([smhd])$")
_REMOTE_HELPER = re.compile(r"^[A-Za-z0-9+.-]+::")
_BRANCH = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._/+-]{0,199}$")
# libyaml's safe loader when PyYAML was built with it: the same safe subset, several times faster on big files.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PRESETS = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@once", "@continuous"}


class SourceConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Slug; names the source's poll task.")
    type: SourceType
    url: str | None = None
    path: Path | None = None
    outlet: str | None = Field(default=None, min_length=1, description="Outlet of every item; else each item's own.")
    category: str | None = Field(default=None, min_length=1, description="Category of every item; else each item's.")
    outlets: dict[str, str] = Field(
        default_factory=dict, description="Outlet names by item category: {emnews: 东方财富, 21shijijingjibaodao: …}."
    )
    tags: list[str] = Field(default_factory=list)
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    timezone: str | None = Field(default=None, description="IANA zone of dates written without one (Asia/Shanghai).")
    schedule: str = Field(default="@hourly", description="Cron expression, preset (@hourly) or interval (15m, 1h).")
    enabled: bool = True
    trusted: bool = Field(default=False, description="May read local files and loopback/private addresses.")
    paths: list[str] | None = Field(
        default=None, description="git: folders of posts in the repository (default [_posts]; '.' for all of it)."
    )
    branch: str | None = Field(default=None, description="git: the branch to follow (default: the remote's HEAD).")

    @field_validator("paths")
    @classmethod
    def _paths(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("list at least one folder, or '.' for the whole repository")
        cleaned: list[str] = []
        for raw in value:
            path = raw.strip().strip("/")
            if path in ("", "."):
                return ["."]
            parts = path.split("/")
            if raw.strip().startswith("/") or any(part in ("", ".", "..") for part in parts) or path.startswith("-"):
                raise ValueError(f"{raw!r}: give a folder inside the repository, like _posts or source/_posts")
            cleaned.append(path)
        return list(dict.fromkeys(cleaned))

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not _BRANCH.match(value) or ".." in value or "//" in value or value.endswith((".lock", "/", ".")):
            raise ValueError(f"{value!r} is not a branch name")
        return value

    fetch_article: FetchArticle | None = Field(
        default=None,
        description="Fetch each item's linked page for its article: auto (teasers and empty items), always, never. "
        "Default: auto, but never for folders of posts, whose bodies are the articles.",
    )
    fetch_concurrency: int | None = Field(default=None, ge=1, le=16, description="Requests at once to one host.")
    fetch_delay_s: float | None = Field(default=None, ge=0, le=3600, description="Least seconds between requests.")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        value = value.strip()
        if value in _PRESETS or _INTERVAL.match(value) or len(value.split()) == 5:
            return value
        raise ValueError("expected a 5-field cron expression, a preset like @hourly, or an interval like 15m")

    @field_validator("outlets")
    @classmethod
    def _outlets(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {str(key).strip(): str(name).strip() for key, name in value.items()}
        if any(not key or not name for key, name in cleaned.items()):
            raise ValueError("every entry maps a category to an outlet name, neither empty")
        return cleaned

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            named_zone(value)  # raises ValueError naming the zone
        return value

    @model_validator(mode="after")
    def _location(self) -> Self:
        rule = _LOCATION_RULES.get(self.type)
        if rule is None:
            raise ValueError(f"type {self.type.value!r} has no location rules")
        rule(self)
        return self

    @property
    def article_mode(self) -> FetchArticle:
        """`fetch_article`, or its default for the source's type."""
        if self.fetch_article is not None:
            return self.fetch_article
        return "never" if self.type in (SourceType.JEKYLL, SourceType.GIT) else "auto"

    def fetch_policy(self, *, concurrency: int, delay_s: float) -> FetchPolicy:
        """How this source's pages are fetched: its own limits, else the given defaults (from settings)."""
        return FetchPolicy(
            host_concurrency=self.fetch_concurrency or concurrency,
            host_delay_s=delay_s if self.fetch_delay_s is None else self.fetch_delay_s,
            trusted=self.trusted,
        )

    @property
    def interval_seconds(self) -> int | None:
        match = _INTERVAL.match(self.schedule)
        if not match:
            return None
        return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]

    @property
    def location(self) -> str:
        """Where the source is, for people: credentials in a URL are masked."""
        if self.url:
            parts = urlsplit(self.url)
            if "@" in parts.netloc:
                return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
            return self.url
        return str(self.path)

    def info(self) -> SourceInfo:
        return SourceInfo(
            id=self.id,
            type=self.type,
            outlet=self.outlet,
            category=self.category,
            tags=list(self.tags),
            language=self.language,
            outlets=dict(self.outlets),
            timezone=self.timezone,
        )


def _git_fields_only_for_git(source: SourceConfig) -> None:
    if source.paths is not None or source.branch is not None:
        raise ValueError("`paths` and `branch` are fields of git sources only")


def _feed_location(source: SourceConfig) -> None:
    _git_fields_only_for_git(source)
    if not source.url or source.path:
        raise ValueError("a feed source needs `url` (http, https or file://) and no `path`")
    scheme = urlsplit(source.url).scheme
    if scheme not in ("http", "https", "file"):
        raise ValueError(f"url scheme {scheme!r} is not supported (http, https, file)")
    if scheme == "file" and not source.trusted:
        raise ValueError("a file:// url reads the local disk: mark the source `trusted: true`")


def _folder_location(source: SourceConfig) -> None:
    _git_fields_only_for_git(source)
    if not source.path or source.url:
        raise ValueError("a jekyll source needs `path` (a folder of posts) and no `url`")
    if not source.trusted:
        raise ValueError("a jekyll source reads the local disk: mark the source `trusted: true`")


def _git_location(source: SourceConfig) -> None:
    if bool(source.url) == bool(source.path):
        raise ValueError("a git source needs either `url` (a git remote) or `path` (a local repository), not both")
    if source.path and not source.trusted:
        raise ValueError("a local repository is on the local disk: mark the source `trusted: true`")
    if not source.url:
        return
    if _REMOTE_HELPER.match(source.url):
        raise ValueError("git's `transport::address` remote helpers are not supported (ext:: runs commands)")
    parts = urlsplit(source.url)
    if parts.scheme.lower() in ("http", "https"):
        if not parts.hostname:
            raise ValueError("the git url has no host name")
    elif not source.trusted:
        raise ValueError(
            "untrusted git sources may only use http(s) remotes, whose addresses are checked; "
            "ssh, git://, file:// and local repositories need `trusted: true`"
        )


def _sitemap_location(source: SourceConfig) -> None:
    _feed_location(source)
    if source.fetch_article == "never":
        raise ValueError("a sitemap lists links only: its pages must be fetched (fetch_article auto or always)")


# What each source type needs in `url` / `path` (and its own fields); raises ValueError with the reason.
_LOCATION_RULES: dict[SourceType, Callable[[SourceConfig], None]] = {
    SourceType.FEED: _feed_location,
    SourceType.JEKYLL: _folder_location,
    SourceType.GIT: _git_location,
    SourceType.SITEMAP: _sitemap_location,
}


def parse_sources(data: Any, base_dir: Path, origin: str = "sources file") -> list[SourceConfig]:
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise ConfigError(f"{origin}: expected a top-level `sources:` list")
    sources: list[SourceConfig] = []
    seen: set[str] = set()
    for position, entry in enumerate(data["sources"], start=1):
        name = entry.get("id", f"#{position}") if isinstance(entry, dict) else f"#{position}"
        try:
            source = SourceConfig.model_validate(entry)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "(source)"
            raise ConfigError(f"{origin}: source {name!r}, field {field!r}: {first['msg']}") from None
        if source.id in seen:
            raise ConfigError(f"{origin}: source {source.id!r}, field 'id': duplicate id")
        seen.add(source.id)
        if source.path is not None and not source.path.is_absolute():
            source = source.model_copy(update={"path": (base_dir / source.path).resolve()})
        if source.url and source.url.startswith("file:") and not source.url.startswith("file:/"):
            # `file:samples/feed.xml` is relative to the sources file
            source = source.model_copy(update={"url": (base_dir / source.url[5:]).resolve().as_uri()})
        sources.append(source)
    return sources


def load_sources(path: Path) -> list[SourceConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read sources file {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)  # safe: see _SAFE_LOADER
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_sources(data, path.resolve().parent, origin=str(path))


def find_source(sources: list[SourceConfig], source_id: str) -> SourceConfig:
    for source in sources:
        if source.id == source_id:
            return source
    known = ", ".join(s.id for s in sources) or "none"
    raise ConfigError(f"no source {source_id!r} in the sources file (known: {known})")
