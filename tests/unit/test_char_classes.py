"""Python's character classes as code point ranges, checked against Python on every code point."""

from __future__ import annotations

import re

from pipeline.normalize import char_classes
from pipeline.tagging import _LETTER


def _members(ranges: list[tuple[int, int]]) -> set[int]:
    return {cp for start, end in ranges for cp in range(start, end)}


def _all_code_points() -> list[int]:
    return [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]


def test_letters_are_what_the_pattern_matches() -> None:
    letters = _members(char_classes.pattern_ranges(_LETTER))
    assert letters == {cp for cp in _all_code_points() if _LETTER.match(chr(cp))}
    assert {ord(c) for c in "a中〇Ⅷ²①"} <= letters
    assert not {ord(c) for c in "_5٣ -。🙂"} & letters


def test_digits_are_what_isdigit_says() -> None:
    digits = _members(char_classes.digit_ranges())
    assert digits == {cp for cp in _all_code_points() if chr(cp).isdigit()}
    assert {ord(c) for c in "5٣²①"} <= digits
    assert not {ord(c) for c in "〇Ⅷa"} & digits


def test_characters_with_an_ascii_lowercase() -> None:
    others = char_classes.ascii_lowercase_of_others()
    assert others == {c: c.lower() for cp in _all_code_points() if not (c := chr(cp)).isascii() and c.lower().isascii()}
    assert others["\u212a"] == "k"


def test_ranges_merge_neighbours() -> None:
    assert char_classes.ranges([1, 2, 3, 7, 9, 10]) == [(1, 4), (7, 8), (9, 11)]
    assert char_classes.pattern_ranges(re.compile("[a-c]")) == [(97, 100)]
