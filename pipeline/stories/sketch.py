"""The fingerprint of an article for story grouping: MinHash sketches of its shingles, LSH band keys,
its title and the figures in it. Pure and vectorized (numpy): a seed-sized Chinese article costs a few
tens of microseconds.

Shingles (what "similar text" means):
- The title and body are lowercased; only letters, digits and CJK characters are kept (punctuation,
  spaces and markup differences between two copies of a story do not count).
- Text written mostly in CJK characters is shingled by *characters*: every kept character is a token
  (Chinese has no spaces; character n-grams are how near-duplicate detection reads it). Other text is
  shingled by *words* (runs of letters and digits). A shingle is `SHINGLE_TOKENS` consecutive tokens.
- Only the first `MAX_TOKENS` tokens are read: copies share their start, and the cost stays bounded.

Sketches of the set of shingle hashes (64-bit, one multiply-xorshift mix of the token values):
- *bottom-k* (the `BOTTOM_K` smallest hashes, kept as their top 32 bits) estimates the Jaccard
  similarity and, with the set sizes, the containment of one text in another (Broder's min-wise
  sketches; the k-smallest variant needs one hash per shingle instead of one per permutation);
- *one-permutation hashing* (the smallest hash in each of `BINS` equal ranges of the hash space, empty
  bins filled from the next non-empty one, "densification") gives `BINS` min-hash values that LSH
  bands are made of: `BANDS` bands of `BINS // BANDS` values; two texts with Jaccard similarity `s`
  share at least one band with probability 1 - (1 - s^r)^b (r = 4, b = 8: 0.98 at s = 0.8, 0.67 at
  0.6, under 0.01 at 0.2).

Two more keys catch copies whose text differs but whose headline is the same story (a broker note
and its rewrite, a flash and its longer edition): the normalized title itself, and the set of figures
in the title (numbers with leading zeros dropped, so `00388.HK` and `0388.HK` agree).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

import numpy as np
import numpy.typing as npt

SHINGLE_TOKENS = 3
MAX_TOKENS = 4000
BOTTOM_K = 128
BINS = 32
BANDS = 8
ROWS = BINS // BANDS
TITLE_CHARS = 200

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]

_CJK_FROM = 0x3040  # kept code points from here on are CJK (kana, ideographs, hangul): one token each
_M1 = np.uint64(0x9E3779B97F4A7C15)
_S32 = np.uint64(32)
_WORD_TAG = np.uint32(1 << 31)  # word hashes never equal a CJK code point
_H = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F], dtype=np.uint32)
_POLY = np.uint64(0x100000001B3)  # odd: invertible modulo 2^64
_BIN_SHIFT = np.uint32(32 - (BINS.bit_length() - 1))
_BIN_STARTS = np.arange(BINS, dtype=np.uint32) << _BIN_SHIFT

_KEEP = re.compile(r"[^0-9a-z.\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+|(?<!\d)\.|\.(?!\d)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))


def _lower_table() -> U32:
    """For every BMP code point: its lowercase code point if it is kept (a letter, a digit, a CJK character),
    else 0. Kept code points at or above 0x3040 are exactly the CJK ones."""
    table = np.zeros(0x10000, dtype=np.uint32)
    for start, end in _CJK_RANGES:
        table[start : end + 1] = np.arange(start, end + 1, dtype=np.uint32)
    for code in range(_CJK_FROM):
        char = chr(code)
        lower = char.lower()
        if char.isalnum() and len(lower) == 1 and ord(lower) < _CJK_FROM:
            table[code] = ord(lower)
    return table


_LOWER = _lower_table()


def _powers(n: int) -> tuple[U64, U64]:
    """POLY^i and POLY^-i modulo 2^64 for i < n (uint64 arithmetic wraps)."""
    inverse = pow(int(_POLY), -1, 1 << 64)
    powers = np.full(n, _POLY, dtype=np.uint64)
    inverses = np.full(n, np.uint64(inverse), dtype=np.uint64)
    powers[0] = inverses[0] = 1
    return np.cumprod(powers, dtype=np.uint64), np.cumprod(inverses, dtype=np.uint64)


_MAX_CHARS = MAX_TOKENS * 8  # tokens are read from at most this many characters
_POWERS, _INVERSES = _powers(_MAX_CHARS)


def _tokens(text: str, cjk: bool | None) -> U32:
    """Token values of a text: one per kept character (CJK text), or one per word (a run of letters and
    digits: a 32-bit hash of it) and one per CJK character (other text). `cjk` None: CJK when most kept
    characters are."""
    codes = _LOWER.take(np.frombuffer(text[:_MAX_CHARS].encode("utf-32-le"), dtype=np.uint32), mode="clip")
    if cjk is None:
        kept = codes[codes != 0]
        cjk = bool(np.count_nonzero(kept >= _CJK_FROM) * 2 >= len(kept))
    if cjk:  # code points beyond the BMP (emoji) were clipped to U+FFFF, which is dropped
        kept_codes: U32 = codes[codes != 0][:MAX_TOKENS]
        return kept_codes
    word = (codes != 0) & (codes < _CJK_FROM)
    first = word & ~np.concatenate(([False], word[:-1]))
    starts = np.flatnonzero(first)
    if len(starts):  # a word's value: sum of its code points times POLY^position, made independent of where it is
        sums = np.add.reduceat(codes.astype(np.uint64) * word * _POWERS[: len(codes)], starts)
        codes = codes.copy()
        codes[starts] = ((sums * _INVERSES[starts] * _M1) >> _S32).astype(np.uint32) | _WORD_TAG
    tokens: U32 = codes[first | (codes >= _CJK_FROM)][:MAX_TOKENS]
    return tokens


def shingle_hashes(text: str, *, cjk: bool | None = None) -> U32:
    """Sorted 32-bit hashes of the text's shingles (duplicates kept: they sit side by side).

    A shingle of tokens (a, b, c) hashes to ((a*A) ^ (b*B) ^ (c*C)) * D modulo 2^32, odd constants.
    """
    tokens = _tokens(text, cjk)
    hashes: U32
    if len(tokens) >= SHINGLE_TOKENS:
        hashes = (tokens[:-2] * _H[0]) ^ (tokens[1:-1] * _H[1]) ^ (tokens[2:] * _H[2])
    elif len(tokens):
        hashes = np.array([(int(tokens[0]) * 0x9E3779B1 + len(tokens)) & 0xFFFFFFFF], dtype=np.uint32) ^ tokens[-1]
    else:
        return np.zeros(0, dtype=np.uint32)
    hashes *= _H[3]
    hashes.sort()
    return hashes


def _bins(hashes: U32) -> U32:
    """The smallest hash of each of BINS equal ranges of the hash space; empty bins densified."""
    if not len(hashes):
        return np.zeros(BINS, dtype=np.uint32)
    at = np.searchsorted(hashes, _BIN_STARTS)
    full = at < np.append(at[1:], len(hashes))  # a bin ends where the next one starts
    values = hashes[np.minimum(at, len(hashes) - 1)]
    if not full.all():  # borrow from the next filled bin to the right (circularly), salted by the distance
        filled, empty = np.flatnonzero(full), np.flatnonzero(~full)
        nearest = filled[np.searchsorted(filled, empty) % len(filled)]
        values[empty] = (values[nearest] ^ ((nearest - empty) % BINS).astype(np.uint32)) * _H[0]
    return values


def _band_keys(bins: U32) -> list[str]:
    """One key per band: the band's ROWS bin values, as hex, after the band's number."""
    text = bins.astype(">u4").tobytes().hex()
    width = 8 * ROWS
    return [f"b{band}:{text[band * width : (band + 1) * width]}" for band in range(BANDS)]


def _normalize_number(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(0).partition(".")
    whole = whole.lstrip("0") or "0"
    return f"{whole}.{fraction}" if fraction else whole


def title_text(title: str) -> str:
    """The title as compared: lowercase, letters, digits (and decimal points) and CJK only, numbers without
    leading zeros."""
    return _KEEP.sub("", _NUMBER.sub(_normalize_number, title.lower()))[:TITLE_CHARS]


def figures(title: str) -> tuple[str, ...]:
    """The distinct numbers of a title, normalized (`00388` and `0388` are 388), sorted."""
    return tuple(sorted({_normalize_number(m) for m in _NUMBER.finditer(title)}))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True)
class Fingerprint:
    """What story grouping knows of one article."""

    article_id: str
    at: datetime  # published, else fetched: the time the window is measured on
    size: int  # distinct shingles of the text (for containment)
    bottom: tuple[int, ...]  # the BOTTOM_K smallest shingle hashes' top 32 bits, ascending
    bands: tuple[str, ...]  # LSH band keys of the text
    title: str  # `title_text` of the title
    figures: tuple[str, ...]

    @cached_property
    def bottom_set(self) -> frozenset[int]:
        return frozenset(self.bottom)

    @cached_property
    def title_key(self) -> str | None:
        return f"t:{_digest(self.title)}" if self.title else None

    @cached_property
    def figures_key(self) -> str | None:
        return f"f:{_digest(' '.join(self.figures))}" if self.figures else None

    @cached_property
    def headline_keys(self) -> tuple[str, ...]:
        """The title's and the figures' keys (when there are any): they only count within hours (see `match`)."""
        return tuple(key for key in (self.title_key, self.figures_key) if key)

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Every lookup key: band keys, then the headline keys."""
        return (*self.bands, *self.headline_keys)


def _estimated_size(bottom: U32, k: int) -> int:
    """Distinct shingles: exact below k, else the k-minimum-values estimate (k - 1) / (k-th smallest / 2^32)."""
    if len(bottom) < k:
        return len(bottom)
    return round((k - 1) * 2.0**32 / (int(bottom[k - 1]) + 1))


@dataclass(frozen=True)
class Text:
    """What a fingerprint is made of: an article's id, title, body and time; `cjk` as for `fingerprint`."""

    article_id: str
    title: str
    body: str
    at: datetime
    cjk: bool | None = None


def fingerprints(texts: Sequence[Text]) -> list[Fingerprint]:
    """The fingerprints of a batch of articles, one text at a time: measured, numpy passes over several texts
    joined cost more per text (their arrays leave the CPU's cache) than they save in calls."""
    return [fingerprint(t.article_id, t.title, t.body, t.at, cjk=t.cjk) for t in texts]


def fingerprint(article_id: str, title: str, body: str, at: datetime, *, cjk: bool | None = None) -> Fingerprint:
    """The fingerprint of an article. `cjk`: its text is Chinese, Japanese or Korean (shingles of characters);
    None: decide from the text (mostly CJK characters or not)."""
    hashes = shingle_hashes(f"{title}\n{body}", cjk=cjk)
    head = hashes[: 2 * BOTTOM_K]
    bottom = head[np.concatenate(([True], head[1:] != head[:-1]))][:BOTTOM_K] if len(head) else head
    result = Fingerprint(
        article_id=article_id,
        at=at,
        size=_estimated_size(bottom, BOTTOM_K),
        bottom=tuple(bottom.tolist()),
        bands=tuple(_band_keys(_bins(hashes))) if len(hashes) else (),  # no text: nothing to look up by
        title=title_text(title),
        figures=figures(title),
    )
    result.keys  # noqa: B018 - computed once, here, with the rest of the fingerprint
    return result


def pack(values: tuple[int, ...]) -> str:
    """Bottom-k values as compact text (base64 of big-endian uint32s) for storage."""
    return base64.b64encode(np.array(values, dtype=">u4").tobytes()).decode("ascii")


def unpack(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in np.frombuffer(base64.b64decode(text), dtype=">u4"))
