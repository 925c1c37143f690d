from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.sources.catalog import load_sources, parse_sources
from schemas.models import SourceType

REPO = Path(__file__).resolve().parents[2]

GOOD = {"id": "s1", "type": "feed", "url": "https://example.com/feed.xml", "outlet": "O", "category": "c"}


def test_bundled_sources_file_is_valid_and_resolves_paths() -> None:
    sources = load_sources(REPO / "sources.yaml")
    assert {s.type for s in sources} == {SourceType.FEED, SourceType.JEKYLL}
    for source in sources:
        if source.path:
            assert source.path.is_absolute() and source.path.is_dir()
        if source.url and source.url.startswith("file:"):
            assert Path(source.url.removeprefix("file://")).is_file()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"id": "Bad Id"}, "id", "pattern"),
        ({"type": "podcast"}, "type", "feed"),
        ({"url": None}, "(source)", "needs `url`"),
        ({"url": "ftp://example.com/x"}, "(source)", "scheme"),
        ({"url": "file:///tmp/x.xml"}, "(source)", "trusted"),
        ({"schedule": "every tuesday"}, "schedule", "cron"),
        ({"outlet": ""}, "outlet", "at least 1"),
        ({"language": "Chinese"}, "language", "pattern"),
        ({"category": ""}, "category", "at least 1"),
        ({"outlets": {"emnews": ""}}, "outlets", "neither empty"),
        ({"outlets": ["emnews"]}, "outlets", "valid dictionary"),
        ({"timezone": "Beijing"}, "timezone", "'Beijing' is not a time zone name"),
        ({"unknown": 1}, "unknown", "Extra inputs"),
        ({"type": "jekyll", "url": None, "path": "posts"}, "(source)", "trusted"),
    ],
)
def test_bad_source_names_source_and_field(change: dict[str, object], field: str, message: str) -> None:
    entry = {**GOOD, **change}
    with pytest.raises(ConfigError) as err:
        parse_sources({"sources": [entry]}, Path("/"))
    text = str(err.value)
    assert f"source {entry.get('id')!r}" in text
    assert f"field {field!r}" in text
    assert message in text


def test_duplicate_ids_and_shape_errors() -> None:
    with pytest.raises(ConfigError, match="duplicate id"):
        parse_sources({"sources": [GOOD, GOOD]}, Path("/"))
    with pytest.raises(ConfigError, match="top-level `sources:` list"):
        parse_sources({"feeds": []}, Path("/"))


def test_unreadable_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sources file"):
        load_sources(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_sources(bad)


@pytest.mark.parametrize(
    ("schedule", "seconds"),
    [("15m", 900), ("1h", 3600), ("30s", 30), ("2d", 172800), ("@hourly", None), ("*/5 * * * *", None)],
)
def test_schedules(schedule: str, seconds: int | None) -> None:
    (source,) = parse_sources({"sources": [{**GOOD, "schedule": schedule}]}, Path("/"))
    assert source.interval_seconds == seconds


def test_relative_file_url_is_resolved_against_the_sources_file(tmp_path: Path) -> None:
    entry = {**GOOD, "url": "file:feeds/a.xml", "trusted": True}
    (source,) = parse_sources({"sources": [entry]}, tmp_path)
    assert source.url == (tmp_path / "feeds" / "a.xml").as_uri()


def test_location_masks_credentials_in_urls() -> None:
    entry = {**GOOD, "url": "https://reader:hunter2@feeds.example.com/a.xml"}
    (source,) = parse_sources({"sources": [entry]}, Path("/"))
    assert source.location == "https://***@feeds.example.com/a.xml"
    assert "hunter2" not in source.location


GIT = {"id": "mirror", "type": "git", "url": "https://github.com/zning1994/finews.git", "outlet": "O", "category": "c"}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"url": None}, "(source)", "either `url`"),
        ({"path": "/srv/finews"}, "(source)", "not both"),
        ({"url": None, "path": "/srv/finews"}, "(source)", "trusted"),
        ({"url": "file:///srv/finews.git"}, "(source)", "trusted"),
        ({"url": "git@github.com:zning1994/finews.git"}, "(source)", "http(s)"),
        ({"url": "ssh://github.com/zning1994/finews.git"}, "(source)", "http(s)"),
        ({"url": "ext::sh -c touch% /tmp/pwned", "trusted": True}, "(source)", "ext::"),
        ({"url": "https:///finews.git"}, "(source)", "no host"),
        ({"paths": ["../etc"]}, "paths", "inside the repository"),
        ({"paths": ["/abs"]}, "paths", "inside the repository"),
        ({"paths": ["-rf"]}, "paths", "inside the repository"),
        ({"paths": []}, "paths", "at least one folder"),
        ({"branch": "--upload-pack=x"}, "branch", "not a branch name"),
        ({"branch": "a..b"}, "branch", "not a branch name"),
    ],
)
def test_bad_git_source_says_why(change: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_sources({"sources": [{**GIT, **change}]}, Path("/"))
    assert f"field {field!r}" in str(err.value) and message in str(err.value), str(err.value)


def test_git_fields_belong_to_git_sources_only() -> None:
    with pytest.raises(ConfigError, match="git sources only"):
        parse_sources({"sources": [{**GOOD, "paths": ["_posts"]}]}, Path("/"))


def test_git_sources_remote_or_local(tmp_path: Path) -> None:
    remote, local, everything = parse_sources(
        {
            "sources": [
                {**GIT, "paths": ["_posts/", "old_post", "_posts"], "branch": "gh-pages"},
                {**GIT, "id": "local", "url": None, "path": "mirrors/finews", "trusted": True},
                {**GIT, "id": "all", "url": "https://user:secret@example.com/r.git", "paths": ["source/_posts", "."]},
            ]
        },
        tmp_path,
    )
    assert (remote.paths, remote.branch) == (["_posts", "old_post"], "gh-pages")
    assert local.path == tmp_path / "mirrors" / "finews" and local.paths is None
    assert everything.paths == ["."]
    assert "secret" not in everything.location and everything.location == "https://***@example.com/r.git"


def test_outlet_and_category_are_optional_defaults() -> None:
    entry = {
        "id": "mirror",
        "type": "jekyll",
        "path": "posts",
        "trusted": True,
        "outlets": {" emnews ": " 东方财富 ", "21shijijingjibaodao": "21世纪经济报道"},
        "timezone": "Asia/Shanghai",
    }
    (source,) = parse_sources({"sources": [entry]}, Path("/data"))
    info = source.info()
    assert (info.outlet, info.category) == (None, None)
    assert info.outlets == {"emnews": "东方财富", "21shijijingjibaodao": "21世纪经济报道"}
    assert info.timezone == "Asia/Shanghai"
