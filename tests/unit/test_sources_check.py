"""`newsflow sources check ID`: a dry-run poll of any source type plus the transform; nothing pushed."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest
import yaml

from pipeline import cli
from pipeline.source_check import CheckRow, summary, table
from tests.support.git_repos import WorkRepo, finews
from tests.unit.conftest import FEEDS, POSTS

# As the Hexo mirror writes it: a blank line first, `categories: ` with a trailing space, a padded <div>.
HEXO_POST = (
    "\n---\ntitle: '10余省水泥价格上涨'\ncategories: \n - 金融\n - 财联社\n - 电报\nauthor: 财联社\n"
    "date: Sun, 20 Mar 2022 12:21:26 GMT\n---\n\n<div>   \n"
    "【10余省水泥价格上涨】财联社3月20日电，本周多地水泥价格上调。海螺水泥(600585)涨。  \n</div>\n"
)
UNDATED_POST = """---
title: '11月商品住宅销售价格延续跌势'
categories: [金融, 证券时报网, 要闻]
author: 证券时报网
date: Invalid Date
---
11月商品住宅销售价格延续跌势
"""


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    posts = tmp_path / "posts"
    posts.mkdir()
    (posts / "cement.md").write_text(HEXO_POST, encoding="utf-8")
    (posts / "undated.md").write_text(UNDATED_POST, encoding="utf-8")
    shutil.copy(POSTS / "invalid_yaml.md", posts / "invalid_yaml.md")
    sources = tmp_path / "sources.yaml"
    entries = [
        {"id": "mirror", "type": "jekyll", "path": str(posts), "language": "zh", "trusted": True},
        {"id": "wire", "type": "feed", "url": (FEEDS / "rss20.xml").as_uri(), "outlet": "Wire", "trusted": True},
        {
            "id": "wire-whole",
            "type": "feed",
            "url": (FEEDS / "rss20.xml").as_uri(),
            "fetch_article": "never",
            "trusted": True,
        },
    ]
    sources.write_text(yaml.safe_dump({"sources": entries}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    monkeypatch.setenv("NEWSFLOW_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NEWSFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")  # nothing may be pushed
    return tmp_path


def test_check_a_post_folder(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sources", "check", "mirror"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    cement = lines["cement.md"]
    assert "2022-03-20 20:21:26+08:00" in cement  # the source's zone (zh: Beijing time), not UTC
    assert "财联社/电报" in cement and "  财联社  " in cement and "600585.SH" in cement
    assert "published date 'Invalid Date' is not a date newsflow can read: dropped" in lines["undated.md"]
    assert "not valid YAML" in lines["invalid_yaml.md"]
    assert out.splitlines()[-1].startswith("3 items: 2 would be documents (2 distinct ids), 1 dead letters")
    assert not (configured / "state" / "mirror.json").exists()  # a check leaves no polling state


def test_check_a_feed_as_json(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sources", "check", "wire", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(row["status"] == "document" and row["outlet"] == "Wire" for row in rows)
    # entries whose article is on their page (a teaser, or nothing) would go to the fetch stage: they are
    # listed as the poll has them, with a note, since a check reads no pages
    assert all(row["notes"][0].startswith("its article page would be read by the fetch stage") for row in rows)
    assert cli.main(["sources", "check", "wire-whole", "--json"]) == 0  # fetch_article: never
    whole = json.loads(capsys.readouterr().out)
    assert len(whole) == len(rows) and not any("fetch stage" in note for row in whole for note in row["notes"])
    first = next(row for row in rows if row["title"] == "广东8个跨境电商综试区方案同日出炉")
    assert first["category"] == "21世纪经济报道新闻"  # the entry's first <category>
    assert first["published"] == "2022-05-05 21:38:33+08:00"


def test_check_needs_a_known_source(configured: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sources", "check"]) == 1
    assert "name the source to check" in capsys.readouterr().err
    assert cli.main(["sources", "check", "nope"]) == 1
    assert "no source 'nope'" in capsys.readouterr().err


def _columns(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def test_table_aligns_wide_characters_and_keeps_problems_whole() -> None:
    rows = [
        CheckRow(
            "a.md", "document", title="很长的中文标题" * 6, published="2022-03-20 20:21:26+08:00", outlet="财联社"
        ),
        CheckRow("b.md", "dead letter", problem="b.md: front matter is not valid YAML at line 3: " + "x" * 80),
    ]
    lines = table(rows).splitlines()
    assert _columns(lines[1][: lines[1].index("2022-03-20")]) == _columns(lines[0][: lines[0].index("published")])
    assert "…" in lines[1] and lines[2].endswith("x" * 80)
    assert summary(rows, deferred=4).endswith("4 more deferred by the per-poll cap")


def test_check_a_git_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check goes through the poll's table of source types: a git repository of real posts works too."""
    repo = WorkRepo(tmp_path / "repo")
    for name in ("2022-05-05-NW202205052369313688.md", "-202205262391921712.md"):
        repo.write(f"_posts/{name}", finews(name))
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "posts")
    sources = tmp_path / "sources.yaml"
    entry = {"id": "finews-git", "type": "git", "path": str(repo.path), "trusted": True, "language": "zh",
             "outlets": {"emnews": "东方财富", "21shijijingjibaodao": "21世纪经济报道"}}  # fmt: skip
    sources.write_text(yaml.safe_dump({"sources": [entry]}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    monkeypatch.setenv("NEWSFLOW_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NEWSFLOW_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    assert cli.main(["sources", "check", "finews-git", "--json"]) == 0
    rows = {row["item"]: row for row in json.loads(capsys.readouterr().out)}
    seed = rows["2022-05-05-NW202205052369313688.md"]
    assert (seed["category"], seed["outlet"], seed["published"]) == (
        "21shijijingjibaodao", "21世纪经济报道", "2022-05-05 21:38:33+08:00"
    )  # fmt: skip
    digest = rows["-202205262391921712.md"]
    assert (digest["outlet"], digest["published"]) == ("东方财富", "")
    assert set(digest["tickers"]) == {"NIO.US", "600160.SH", "300343.SZ", "600636.SH"}
