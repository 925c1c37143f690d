"""`newsflow eval extraction` on a small page set of its own: the table, the JSON and clear errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.bench import extraction_eval, pageset

ARTICLE = "港交所4月27日公布2022年第一季度业绩，股东应占溢利28.6亿港元，同比下降28%。"
PAGE = (
    "<html><head><title>港交所一季度净利润同比下降_东方财富网</title></head><body>"
    "<div class='nav'><a href='/'>首页</a> <a href='/a'>财经</a></div>"
    f"<div id='ContentBody'><p>{ARTICLE}</p><p>{ARTICLE}</p><p>责任编辑：王蒙</p></div></body></html>"
)


@pytest.fixture
def pages(tmp_path: Path) -> Path:
    (tmp_path / "a.html").write_text(PAGE, encoding="utf-8")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(PAGE.replace("王蒙", "李明").encode()))
    (tmp_path / "a.txt").write_text(f"{ARTICLE}\n{ARTICLE}\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text(f"{ARTICLE}\n", encoding="utf-8")
    entries = [
        {"id": "a", "html": "a.html", "text": "a.txt", "url": "https://x.example/a", "language": "zh",
         "origin": "written", "site": "x.example", "split": "dev"},
        {"id": "b", "html": "b.html.gz", "text": "b.txt", "url": "https://x.example/b", "language": "zh",
         "origin": "written", "site": "x.example", "split": "held-out"},
    ]  # fmt: skip
    (tmp_path / "pages.json").write_text(json.dumps({"pages": entries}), encoding="utf-8")
    return tmp_path


def test_scores_pages_and_writes_json(pages: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    argv = ["eval", "extraction", "--pages", str(pages), "--extractors", "ours", "--repeat", "1", "--json", str(out)]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "F1 per page" in printed and "split held-out" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    ours = data["extractors"]["ours"]
    assert ours["available"] and [p["page"] for p in ours["pages"]] == ["a", "b"]
    assert ours["pages"][0]["f1"] == 1.0  # the article whole, the editor line gone
    assert ours["pages"][1]["recall"] == 1.0 and ours["pages"][1]["precision"] < 1.0  # the article is there twice
    assert ours["summary"]["all"]["pages"] == 2 and ours["summary"]["split dev"]["pages"] == 1
    assert ours["summary"]["all"]["pages_per_s_per_core"] > 0


def test_a_split_and_a_summary_only(pages: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["eval", "extraction", "--pages", str(pages), "--extractors", "ours", "--split", "dev", "--summary"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "F1 per page" not in printed and "split dev" in printed and "split held-out" not in printed


def test_an_extractor_not_installed_is_reported(pages: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("pipeline.bench.candidates._resiliparse", lambda: None)
    evaluation = extraction_eval.run(pages, split="all", names=["ours", "resiliparse"], repeat=1)
    missing = evaluation.scores[1]
    assert not missing.available and missing.note and not missing.pages
    assert "not installed" in extraction_eval.table(evaluation)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--extractors", "ours,nope"], "unknown extractor nope"),
        (["--repeat", "0"], "--repeat must be at least 1"),
        (["--pages", "/nonexistent"], "pages.json is missing"),
    ],
)
def test_clear_errors(pages: Path, argv: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    if "--pages" not in argv:
        argv = ["--pages", str(pages), *argv]
    assert cli.main(["eval", "extraction", *argv]) == 1
    assert says in capsys.readouterr().err


def test_a_broken_manifest_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "pages.json").write_text('{"pages": [{"id": "a"}]}', encoding="utf-8")
    with pytest.raises(Exception, match="cannot read the page set"):
        pageset.load(tmp_path)
