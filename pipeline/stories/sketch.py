"""The fingerprint of an article for story grouping: MinHash sketches of its shingles, LSH band keys,
its title and the figures in it. Pure and vectorized (numpy): a seed-sized Chinese article costs a few
tens of microseconds.

Shingles (what "similar text" means):
- The title and body are lowercased; only letters, digits and CJK characters are kept (punctuation,
  spaces and markup differences between two copies of a story do not count).
- Text written mostly in CJK characters is shingled by *characters*: every kept character is a token
  (Chinese has no spaces; character n-grams are how near-duplicate detection reads it). Other text is
  shingled by *words* (runs of letters and digits). A shingle is `SHINGLE_TOKENS` consecutive tokens.
- Only the first `MAX_TOKENS` tokens are read (about 1,000 Chinese characters or words, as the keywords
  read only the start of a text): news states its subject up front and copies share their start, and the
  cost per article does not grow with its length.

Sketches of the set of shingle hashes (32-bit, multiplicative hashing of the tokens), both taken from
one sort of a text's hashes:
- *bottom-k* (the `BOTTOM_K` smallest hashes) estimates the Jaccard similarity and, with the set
  sizes, the containment of one text in another (Broder's min-wise sketches; the k-smallest variant
  needs one hash per shingle instead of one per permutation);
- *one-permutation hashing* (the smallest hash in each of `BINS` equal ranges of the hash space, empty
  bins filled from the next non-empty one, "densification") gives the min-hash values that LSH bands
  are made of: `BANDS` bands of `ROWS` values; two texts with Jaccard similarity `s` share at least one
  band with probability 1 - (1 - s^r)^b (r = 5, b = 10: 0.98 at s = 0.8, 0.84 at 0.7, 0.003 at 0.2,
  the similarity of unrelated texts written from one template).

Where the native extension `newsflow_native` (native/, Rust) is installed, it computes the shingle hashes and
both sketches of a text (`SKETCH_STEP` "native"), with exactly the numpy path's values
(tests/unit/test_native_sketch.py); the numpy path stays the reference and the path without it. Its tables
and constants are this module's, handed over once.

Two more keys catch copies whose text differs but whose headline is the same story (a broker note
and its rewrite, a flash and its longer edition): the normalized title itself (`t:<title>`), and the
figures in the title (`f:<numbers>`, leading zeros dropped, so `00388.HK` and `0388.HK` agree).
"""

from __future__ import annotations

import binascii
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property

import numpy as np
import numpy.typing as npt

try:
    import newsflow_native
except ImportError:  # not built here (no Rust toolchain, the Docker image): the numpy path
    NATIVE_BUILT = False
else:
    NATIVE_BUILT = True

SHINGLE_TOKENS = 3
MAX_TOKENS = 1000
BOTTOM_K = 128
BINS = 64
BANDS = 10
ROWS = 5  # BANDS * ROWS of the BINS are used
TITLE_CHARS = 200

U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
U16 = npt.NDArray[np.uint16]

_CJK_FROM = 0x3040  # kept code points from here on are CJK (kana, ideographs, hangul): one token each
_M1 = np.uint64(0x9E3779B97F4A7C15)
_S32 = np.uint64(32)
_WORD_TAG = np.uint32(1 << 31)  # word hashes never equal a CJK code point
_H = np.array([0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F], dtype=np.uint32)
_BIN_INDEX = np.arange(BINS, dtype=np.intp)
_POLY = np.uint64(0x100000001B3)  # odd: invertible modulo 2^64
_BIN_SHIFT = np.uint32(32 - (BINS.bit_length() - 1))
_BIN_STARTS = np.arange(BINS, dtype=np.uint32) << _BIN_SHIFT

_KEPT = r"0-9a-z.\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"  # what a title keeps
_KEEP = re.compile(rf"[^{_KEPT}]+|(?<!\d)\.|\.(?!\d)")  # and a point only between digits
_DROP = re.compile(rf"[^{_KEPT}]+")  # the same as _KEEP in a title without a point, and cheaper
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_LEADING_ZEROS = re.compile(r"(?<![\d.])0+(?=\d)")  # 00388 -> 388, 0.23 stays
_CJK_RANGES = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF), (0xF900, 0xFAFF))


def _lower_table() -> U16:
    """For every BMP code point: its lowercase code point if it is kept (a letter, a digit, a CJK character),
    else 0. Kept code points at or above 0x3040 are exactly the CJK ones."""
    table = np.zeros(0x10000, dtype=np.uint16)
    for start, end in _CJK_RANGES:
        table[start : end + 1] = np.arange(start, end + 1, dtype=np.uint16)
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


_MAX_CHARS = MAX_TOKENS * 8  # words are read from at most this many characters
_MAX_CJK_CHARS = MAX_TOKENS * 5 // 4  # characters (a little punctuation and space is dropped)
_POWERS, _INVERSES = _powers(_MAX_CHARS)


def _tokens(text: str, cjk: bool | None) -> U16 | U32:
    """Token values of a text: one per kept character (CJK text), or one per word (a run of letters and
    digits: a 32-bit hash of it) and one per CJK character (other text). `cjk` None: CJK when most kept
    characters are."""
    codes = _LOWER.take(
        np.frombuffer(text[: _MAX_CJK_CHARS if cjk else _MAX_CHARS].encode("utf-32-le"), dtype=np.uint32), mode="clip"
    )
    if cjk is None:
        kept = codes[codes != 0]
        cjk = bool(np.count_nonzero(kept >= _CJK_FROM) * 2 >= len(kept))
    if cjk:  # code points beyond the BMP (emoji) were clipped to U+FFFF, which is dropped
        kept_codes: U16 = codes[codes != 0][:MAX_TOKENS]
        return kept_codes
    codes = codes.astype(np.uint32)  # words' values are 32-bit hashes
    word = (codes != 0) & (codes < _CJK_FROM)
    first = word & ~np.concatenate(([False], word[:-1]))
    starts = np.flatnonzero(first)
    if len(starts):  # a word's value: sum of its code points times POLY^position, made independent of where it is
        sums = np.add.reduceat(codes.astype(np.uint64) * word * _POWERS[: len(codes)], starts)
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
    """The smallest hash of each of BINS equal ranges of the hash space; an empty bin borrows the value of the
    next filled bin to its right (circularly), salted with the distance ("densification")."""
    at = np.searchsorted(hashes, _BIN_STARTS)
    values = hashes.take(at, mode="clip")
    full = at < np.append(at[1:], len(hashes))  # a bin ends where the next one starts
    if full.all():
        return values
    filled = full.tolist()
    following = [0] * BINS
    last = 0
    for position in range(2 * BINS - 1, -1, -1):  # the next filled bin at or after each bin, circularly
        if filled[position % BINS]:
            last = position
        if position < BINS:
            following[position] = last
    source = np.array(following, dtype=np.intp)
    borrowed = (values[source % BINS] ^ (source - _BIN_INDEX).astype(np.uint32)) * _H[0]
    densified: U32 = np.where(full, values, borrowed)
    return densified


def _band_keys(bins: U32) -> tuple[str, ...]:
    """One key per band: the band's ROWS bin values, as hex, after the band's number."""
    text = bins.astype("<u4").tobytes().hex()  # little-endian: a view, no copy, on the usual machines
    width = 8 * ROWS
    return tuple(f"b{band}:{text[band * width : (band + 1) * width]}" for band in range(BANDS))


def _zeroless(title: str) -> str:
    """The title lowercased, numbers without leading zeros. (Lowercasing leaves every digit and point as it is
    and makes none: what `_NUMBER` and `_LEADING_ZEROS` find is the same before and after it.)"""
    lowered = title.lower()
    return _LEADING_ZEROS.sub("", lowered) if "0" in lowered else lowered


def _title_text(zeroless: str) -> str:
    return (_KEEP if "." in zeroless else _DROP).sub("", zeroless)[:TITLE_CHARS]


def _figures(zeroless: str) -> tuple[str, ...]:
    found = _NUMBER.findall(zeroless)
    return tuple(sorted(set(found))) if found else ()


def title_text(title: str) -> str:
    """The title as compared: lowercase, letters, digits (and decimal points) and CJK only, numbers without
    leading zeros."""
    return _title_text(_zeroless(title))


def figures(title: str) -> tuple[str, ...]:
    """The distinct numbers of a title, normalized (`00388` and `0388` are 388), sorted."""
    return _figures(_zeroless(title))


def headline(title: str) -> tuple[str, tuple[str, ...]]:
    """`title_text` and `figures` of a title, from one lowercased copy of it."""
    zeroless = _zeroless(title)
    return _title_text(zeroless), _figures(zeroless)


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

    headline_keys: tuple[str, ...] = ()  # the title's and the figures' keys: they count only within hours
    keys: tuple[str, ...] = ()  # every lookup key: the band keys, then the headline keys

    @cached_property
    def bottom_set(self) -> frozenset[int]:
        return frozenset(self.bottom)

    @classmethod
    def of(
        cls,
        article_id: str,
        at: datetime,
        size: int,
        bottom: tuple[int, ...],
        bands: tuple[str, ...],
        title: str,
        figures: tuple[str, ...],
    ) -> Fingerprint:
        """A fingerprint with its keys made from its parts."""
        headline: tuple[str, ...]
        if title:
            headline = (f"t:{title}", f"f:{' '.join(figures)}") if figures else (f"t:{title}",)
        else:
            headline = (f"f:{' '.join(figures)}",) if figures else ()
        return cls(article_id, at, size, bottom, bands, title, figures, headline, bands + headline)


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


def _bottom(hashes: U32) -> tuple[int, ...]:
    """The BOTTOM_K smallest distinct values of sorted hashes (repeats, of a phrase used again, removed)."""
    take = 2 * BOTTOM_K
    while True:
        head = hashes[:take]
        distinct = head[np.concatenate(([True], head[1:] != head[:-1]))] if len(head) else head
        if len(distinct) >= BOTTOM_K or take >= len(hashes):
            return tuple(distinct[:BOTTOM_K].tolist())
        take *= 4


Sketch = tuple[int, tuple[int, ...], tuple[str, ...]]  # distinct shingles, bottom-k, band keys


def numpy_sketch(text: str, cjk: bool | None = None) -> Sketch:
    """What a fingerprint takes from its text (the reference: `sketch_text` where the native step is not
    installed)."""
    hashes = shingle_hashes(text, cjk=cjk)
    return (
        int(np.count_nonzero(hashes[1:] != hashes[:-1])) + 1 if len(hashes) else 0,
        _bottom(hashes),
        _band_keys(_bins(hashes)) if len(hashes) else (),  # no text: nothing to look up by
    )


@cache
def native_step() -> newsflow_native.Sketcher:
    """The native sketching step, given this module's tables and constants (once)."""
    if not NATIVE_BUILT:
        raise RuntimeError("the native sketching step (newsflow_native, built from native/) is not installed")
    return newsflow_native.Sketcher(
        lower=_LOWER.astype("<u2").tobytes(),
        cjk_from=_CJK_FROM,
        max_chars=_MAX_CHARS,
        max_cjk_chars=_MAX_CJK_CHARS,
        max_tokens=MAX_TOKENS,
        powers=_POWERS.astype("<u8").tobytes(),
        inverses=_INVERSES.astype("<u8").tobytes(),
        m1=int(_M1),
        s32=int(_S32),
        word_tag=int(_WORD_TAG),
        h=[int(h) for h in _H],
        bin_starts=_BIN_STARTS.astype("<u4").tobytes(),
        bottom_k=BOTTOM_K,
        bands=BANDS,
        rows=ROWS,
    )


def native_sketch(text: str, cjk: bool | None = None) -> Sketch:
    """`numpy_sketch` in Rust: the same values, about ten times cheaper (no numpy call per step)."""
    return native_step().sketch(text, cjk)


_SEPARATOR = "\n"  # between an article's title and its body in the text that is sketched


def numpy_article_sketch(title: str, body: str, cjk: bool | None = None) -> Sketch:
    return numpy_sketch(f"{title}{_SEPARATOR}{body}", cjk)


def native_article_sketch(title: str, body: str, cjk: bool | None = None) -> Sketch:
    """`native_sketch` of the title and body joined, without joining them (the native step reads the first
    characters of each where they are)."""
    return native_step().sketch_joined((title, _SEPARATOR, body), cjk)


# The step the pipeline uses, chosen once: the native one where it is installed.
SKETCH_STEP = "native" if NATIVE_BUILT else "numpy"
sketch_text = native_sketch if NATIVE_BUILT else numpy_sketch
sketch_article = native_article_sketch if NATIVE_BUILT else numpy_article_sketch


def fingerprint(article_id: str, title: str, body: str, at: datetime, *, cjk: bool | None = None) -> Fingerprint:
    """The fingerprint of an article. `cjk`: its text is Chinese, Japanese or Korean (shingles of characters);
    None: decide from the text (mostly CJK characters or not)."""
    size, bottom, bands = sketch_article(title, body, cjk)
    normalized, numbers = headline(title)
    return Fingerprint.of(article_id, at, size, bottom, bands, normalized, numbers)


def pack(values: tuple[int, ...]) -> str:
    """Bottom-k values as compact text (base64 of big-endian uint32s) for storage."""
    return binascii.b2a_base64(struct.pack(f">{len(values)}I", *values), newline=False).decode("ascii")


def unpack(text: str) -> tuple[int, ...]:
    """`pack`'s values back (`struct` makes the tuple in one C call: a third cheaper than numpy's `tolist`)."""
    data = binascii.a2b_base64(text)
    return struct.unpack(f">{len(data) // 4}I", data)
