"""Japanese and Korean terms, and the keywords ranked from them."""

from __future__ import annotations

import pytest

from pipeline.normalize.cjk_terms import japanese_terms, korean_terms
from pipeline.tagging import keywords

JAPANESE = (
    "東京証券取引所、新上場基準を発表\n"
    "東京証券取引所は5日、新しい上場基準を発表した。東京証券取引所によると、新しい基準は来年4月から"
    "適用される。上場企業は新しい基準に対応する必要がある。インフレへの懸念も、インフレ率の上昇で強まった。"
)
KOREAN = (
    "한국은행, 기준금리 동결\n"
    "한국은행은 5일 기준금리를 동결했다고 밝혔다. 한국은행은 물가 상승률이 여전히 높다고 설명했다. "
    "기준금리 동결은 세 번째다."
)


def test_japanese_terms_are_kanji_and_katakana_runs_and_latin_words() -> None:
    assert japanese_terms("日本銀行は金利を据え置き、ＡＩ関連のスタートアップとOpenAIが注目された。") == [
        "日本銀行",
        "金利",
        "関連",
        "スタートアップ",
        "OpenAI",
        "注目",
    ]


def test_japanese_terms_never_hold_hiragana_or_single_kanji() -> None:
    for term in japanese_terms(JAPANESE):
        assert len(term) >= 2
        assert not any("\u3040" <= char <= "\u309f" for char in term), term


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("한국은행은", ["한국은행"]),
        ("기준금리를", ["기준금리"]),
        ("서울에서는", ["서울"]),  # a two-syllable stem is kept
        ("정부가", ["정부"]),
        ("국가", ["국가"]),  # stripping 가 would leave one syllable: not a particle here
        ("밝혔다", []),  # predicates are not terms
        ("동결했다고", []),
        ("Samsung의", ["Samsung"]),  # a Latin word is a term of its own; the particle alone is too short
    ],
)
def test_korean_terms_drop_particles_and_predicates(word: str, expected: list[str]) -> None:
    assert korean_terms(word) == expected


def test_japanese_keywords_rank_repeated_subjects_first() -> None:
    found = keywords(JAPANESE, "ja")
    assert found[:3] == ["東京証券取引所", "発表", "基準"]
    assert "インフレ" in found
    # 基準 stays beside 新上場基準: it occurs three times, the longer term once.
    assert "新上場基準" in found


def test_korean_keywords_are_nouns_without_particles() -> None:
    found = keywords(KOREAN, "ko")
    assert found[:3] == ["한국은행", "기준금리", "동결"]
    assert not [word for word in found if word.endswith(("은", "는", "를", "다", "고"))]


def test_a_short_term_is_dropped_when_a_longer_one_holding_it_is_as_frequent() -> None:
    text = "上場企業が上場。上場企業が上場した。市場も。"
    assert keywords(text, "ja") == ["上場企業", "市場"]
