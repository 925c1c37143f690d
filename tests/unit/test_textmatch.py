"""The extraction metric: token-bigram shingles that work for Chinese and for spaced languages."""

from __future__ import annotations

import pytest

from pipeline.bench.textmatch import harmonic, match, shingles, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("港交所公布", ["港", "交", "所", "公", "布"]),
        ("Hello, World!  It's 2022.", ["hello", "world", "it", "s", "2022"]),
        ("宁德时代（300750）涨4.85%", ["宁", "德", "时", "代", "300750", "涨", "4", "85"]),
        ("日本語のテキスト", ["日", "本", "語", "の", "テ", "キ", "ス", "ト"]),
        ("ภาษาไทย", ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"]),
        ("，。！？ ... ---", []),
    ],
)
def test_tokens(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_shingles_are_a_multiset_of_pairs() -> None:
    assert shingles("上涨上涨") == {("上", "涨"): 2, ("涨", "上"): 1}
    assert shingles("word") == {("word", ""): 1}
    assert not shingles("")


@pytest.mark.parametrize(
    ("extracted", "expected", "precision", "recall"),
    [
        ("港交所公布业绩", "港交所公布业绩", 1.0, 1.0),
        ("港交所公布业绩。\n责任编辑：王蒙", "港交所公布业绩", 6 / 12, 1.0),  # 13 tokens, 12 pairs
        ("港交所", "港交所公布业绩", 1.0, 2 / 6),
        ("one two three", "One, two; three.", 1.0, 1.0),  # punctuation and case do not count
        ("第一段\n第二段", "第一段第二段", 1.0, 1.0),  # nor paragraph breaks
        ("", "港交所", 0.0, 0.0),
        ("港交所", "", 0.0, 0.0),
        ("完全不同的内容", "港交所公布业绩", 0.0, 0.0),
    ],
)
def test_match(extracted: str, expected: str, precision: float, recall: float) -> None:
    found = match(extracted, expected)
    assert found.precision == pytest.approx(precision)
    assert found.recall == pytest.approx(recall)
    assert found.f1 == pytest.approx(harmonic(precision, recall))


def test_a_paragraph_extracted_twice_costs_precision() -> None:
    assert match("港交所公布业绩\n港交所公布业绩", "港交所公布业绩").precision == pytest.approx(6 / 13)


def test_harmonic() -> None:
    assert harmonic(0.0, 0.0) == 0.0
    assert harmonic(1.0, 0.5) == pytest.approx(2 / 3)
