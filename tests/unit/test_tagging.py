from __future__ import annotations

import re

import pytest
import rjieba

from pipeline.normalize.html_text import html_to_text
from pipeline.normalize.stopwords import CHINESE, ENGLISH
from pipeline.tagging import KEYWORD_LIMIT, idf_table, keywords, merge_tags, segmenter_terms
from tests.unit.conftest import SEED, SEED_TITLE


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ((["a", "b"], ["c"]), ["a", "b", "c"]),
        ((["News", "Markets"], ["news", "MARKETS", "bonds"]), ["News", "Markets", "bonds"]),
        (
            (["21世纪经济报道新闻"], ["21shijijingjibaodao", "21世纪经济报道新闻"]),
            ["21世纪经济报道新闻", "21shijijingjibaodao"],
        ),
        (([" spaced  tag "], ["spaced tag"]), ["spaced tag"]),
        ((["", "  ", "#"], ["x"]), ["x"]),
        ((["#hashtag"], ["hashtag"]), ["hashtag"]),
        ((["Ｆｕｌｌ"], ["Full"]), ["Full"]),
        ((["Straße"], ["STRASSE"]), ["Straße"]),
        ((), []),
    ],
)
def test_merge_tags(groups: tuple[list[str], ...], expected: list[str]) -> None:
    assert merge_tags(*groups) == expected


@pytest.fixture(scope="module")
def seed_text() -> str:
    body = SEED.read_text(encoding="utf-8").split("---\n", 2)[2]
    return SEED_TITLE + "\n" + html_to_text(body)


def test_seed_keywords_name_the_story(seed_text: str) -> None:
    found = keywords(seed_text, "zh")
    assert "跨境电商" in found
    assert "综试区" in found
    assert 1 <= len(found) <= KEYWORD_LIMIT


def test_keywords_are_never_noise(seed_text: str) -> None:
    for word in keywords(seed_text, "zh"):
        assert len(word) >= 2
        assert word not in CHINESE
        assert not word.isdigit()
        assert not re.fullmatch(r"\d+\D", word)  # 5月, 8个
        assert re.search(r"\w", word)


def test_keywords_are_unique_and_deterministic(seed_text: str) -> None:
    first = keywords(seed_text, "zh")
    assert len(set(first)) == len(first)
    assert keywords(seed_text, "zh") == first


@pytest.mark.parametrize("limit", [1, 3, 5])
def test_keyword_limit(seed_text: str, limit: int) -> None:
    assert len(keywords(seed_text, "zh", limit=limit)) == limit


def test_words_that_go_together_become_a_phrase() -> None:
    segmenter_terms()
    assert rjieba.cut("智慧港口") == ["智慧", "港口"]  # the dictionary splits the compound
    text = "智慧港口发展迅速。智慧港口建设加快。智慧港口投资增加。智慧港口订单增长。港口平台很多。"
    found = keywords(text, "zh")
    assert "智慧港口" in found
    assert "智慧" not in found  # every 智慧 went into the phrase


def test_words_that_only_sometimes_meet_stay_apart() -> None:
    text = "智慧港口。" * 3 + "智慧物流。" * 4 + "港口平台。" * 4
    found = keywords(text, "zh")
    assert "智慧港口" not in found
    assert "智慧物流" in found and "港口平台" in found


def test_the_segmenter_keeps_current_terms_whole() -> None:
    added = segmenter_terms()
    assert "科创板" in added and "大湾区" in added
    assert segmenter_terms() is added  # taught once
    assert rjieba.cut("2019年科创板开市") == ["2019", "年", "科创板", "开市"]  # not 年科 + 创板
    assert rjieba.cut("粤港澳大湾区跨境理财通扩容") == ["粤港澳大湾区", "跨境理财通", "扩容"]
    found = keywords("科创板开市五周年。2019年科创板开市以来，科创板公司研发投入保持高位。", "zh")
    assert found[0] == "科创板" and "年科" not in found and "创板" not in found


def test_fragments_of_a_longer_keyword_are_dropped() -> None:
    text = "科创板开市五周年。" * 3 + "创板" * 2 + "进出口总值增长，出口增长。" * 3
    found = keywords(text, "zh")
    for whole in found:
        assert not any(part != whole and part in whole for part in found), found


def test_english_keywords() -> None:
    text = (
        "Central bank raises rates. The central bank said rates would rise again. "
        "Markets fell after the central bank decision; bank shares dropped."
    )
    found = keywords(text, "en")
    assert found[0] == "bank"
    assert "central" in found and "rates" in found
    assert not set(found) & ENGLISH


@pytest.mark.parametrize("language", ["zh", "ja", "ko", "en", "fr", "und"])
def test_empty_text_has_no_keywords(language: str) -> None:
    assert keywords("", language) == []


def test_idf_table_is_loaded_once_and_shared() -> None:
    table, median = idf_table()
    assert idf_table()[0] is table
    assert len(table) > 100_000
    assert 0 < median <= max(table.values())
    assert table["电子商务"] < median  # a common word is below the median
