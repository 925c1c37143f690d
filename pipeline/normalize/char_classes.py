"""Python's own character classes as code point ranges, for code outside Python that must agree with it.

The native keyword step (`newsflow_native`) decides "is this a letter" (`re`'s `[^\\W\\d_]`), "is this a
digit" (`str.isdigit`) and "what is its lowercase" (`str.lower`) exactly as the Python code does. Those
answers come from the Unicode database of the running Python, which Rust's own tables (another Unicode
version, other definitions of alphabetic and numeric) do not match; so they are computed here, once, and
handed over.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterable
from functools import cache

_SURROGATES = (0xD800, 0xE000)


@cache
def _planes() -> tuple[tuple[int, str], ...]:
    """(first code point, every character from it in order): all code points but the surrogates."""

    def run(start: int, end: int) -> str:
        return array("I", range(start, end)).tobytes().decode("utf-32-le")

    return ((0, run(0, _SURROGATES[0])), (_SURROGATES[1], run(_SURROGATES[1], 0x110000)))


def pattern_ranges(char_class: re.Pattern[str]) -> list[tuple[int, int]]:
    """The code points a one-character pattern matches, as sorted `[start, end)` ranges."""
    runs = re.compile(f"(?:{char_class.pattern})+", char_class.flags)
    return [(base + m.start(), base + m.end()) for base, chars in _planes() for m in runs.finditer(chars)]


def ranges(code_points: Iterable[int]) -> list[tuple[int, int]]:
    """Increasing code points as `[start, end)` ranges."""
    merged: list[tuple[int, int]] = []
    for cp in code_points:
        if merged and merged[-1][1] == cp:
            merged[-1] = (merged[-1][0], cp + 1)
        else:
            merged.append((cp, cp + 1))
    return merged


def digit_ranges() -> list[tuple[int, int]]:
    """The characters for which `str.isdigit()` is true."""
    return ranges(ord(c) for _, chars in _planes() for c in filter(str.isdigit, chars))


def ascii_lowercase_of_others() -> dict[str, str]:
    """Characters outside ASCII whose `str.lower()` is ASCII (the Kelvin sign, lowercase `k`).

    Such a lowercase is one ASCII letter, and a character whose lowercase is a letter `x` matches
    `(?i)[a-z]` in `re`, so only those matches need the per-character check.
    """
    found: dict[str, str] = {}
    for _, chars in _planes():
        for c in re.findall(r"(?i)[a-z]", chars):
            lower = c.lower()
            if not c.isascii() and lower.isascii():
                found[c] = lower
    return found
