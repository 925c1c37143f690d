"""Plain-text cleanup for Chinese and Western news text.

- Full-width ASCII letters and digits (Ａ-Ｚ, ａ-ｚ, ０-９) fold to ASCII; full-width punctuation
  (，。：“”（）！？ and friends) is kept, because it is correct Chinese typography.
- Zero-width and bidi-control characters and the soft hyphen are removed; other control
  characters become spaces.
- Runs of whitespace (including U+3000 and no-break spaces) become one space. In running text
  (`clean_lines`) a space between two CJK characters is dropped: it is a line-wrap artefact, Chinese
  does not separate words. In one-line text (`clean_inline`: titles, tags, names) only a line break
  between CJK characters is a wrap artefact; a space there is kept, because headlines use it to
  separate phrases (`外贸新业态 跨境电商综试区扩容`). A space beside CJK punctuation is always dropped.
- Text is NFC-normalized.
"""

from __future__ import annotations

import re
import unicodedata

_FULLWIDTH_RANGES = ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
_REMOVED = (
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\ufeff"
)
_CONTROLS = (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))


def _translation_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    for start, end in _FULLWIDTH_RANGES:
        for code in range(start, end + 1):
            table[code] = chr(code - 0xFEE0)
    for char in _REMOVED:
        table[ord(char)] = None
    for code in _CONTROLS:
        table[code] = " "
    table[0x0D] = "\n"
    table[0x2028] = "\n"  # line separator
    table[0x2029] = "\n"  # paragraph separator
    return table


_TABLE = _translation_table()
# translate() looks every character up in a dict: slow on long CJK text, so only run it when needed.
_NEEDS_TRANSLATION = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_TABLE)) + "]")
_CJK = (
    r"\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    r"\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
)
_CJK_PUNCTUATION = r"\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
_CJK_WRAP = re.compile(rf"(?<=[{_CJK}])[^\S\n]*\n\s*(?=[{_CJK}])")
_PUNCTUATION_GAP = re.compile(rf"(?<=[{_CJK_PUNCTUATION}]) (?=[{_CJK}])|(?<=[{_CJK}]) (?=[{_CJK_PUNCTUATION}])")


def fold(text: str) -> str:
    """Fold full-width letters/digits to ASCII and drop invisible characters; NFC; no whitespace changes."""
    if _NEEDS_TRANSLATION.search(text):
        text = text.translate(_TABLE)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def _squeeze(line: str) -> str:
    """Collapse whitespace runs of one line (str.split() knows every Unicode space) and close CJK gaps."""
    line = " ".join(line.split())
    if " " in line and not line.isascii():
        line = _CJK_GAP.sub("", line)
    return line


def clean_lines(text: str) -> str:
    """Clean multi-line text: fold, collapse spaces, strip each line and drop empty lines."""
    lines = (_squeeze(line) for line in fold(text).split("\n"))
    return "\n".join(line for line in lines if line)


def clean_inline(text: str) -> str:
    """Clean text meant for one line (a title, a tag, an author): newlines become spaces, except between
    CJK characters, where they disappear; a space between CJK characters is kept (see the module doc)."""
    text = fold(text)
    if "\n" in text and not text.isascii():
        text = _CJK_WRAP.sub("", text)
    line = " ".join(text.split())
    if " " in line and not line.isascii():
        line = _PUNCTUATION_GAP.sub("", line)
    return line


def close_cjk_gaps(text: str) -> str:
    """`text` without the spaces between CJK characters (what `clean_lines` does to running text)."""
    return _CJK_GAP.sub("", text) if " " in text and not text.isascii() else text


def is_cjk(char: str) -> bool:
    """True for Han, kana, bopomofo and CJK or full-width punctuation."""
    return _CJK_CHAR.match(char) is not None


def join_cjk_aware(left: str, right: str) -> str:
    """Join two pieces of text: no space between CJK characters, one space otherwise."""
    if not left:
        return right
    if not right:
        return left
    if is_cjk(left[-1]) or is_cjk(right[0]):
        return left + right
    return f"{left} {right}"
