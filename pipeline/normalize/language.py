"""Language of a text, as an ISO 639-1 code or 'und'.

Text whose letters are mostly CJK is decided by script, without a model: Hangul -> ko, kana -> ja,
Han -> zh. That is exact enough for a news pipeline and costs microseconds. Anything else goes to
py3langid (loaded lazily, once), which must be at least `MIN_CONFIDENCE` sure; otherwise the
source's hint is used, else 'und'.

The model is read from py3langid's own compressed file into memory, unless `use_unpacked_model` named a
folder of its arrays as files (`pipeline.language_files`, what a normalize worker does at start): then
they are mapped read-only, with the same answers.
"""

from __future__ import annotations

import re
from array import array
from functools import cache
from pathlib import Path
from typing import Any

SAMPLE_CHARS = 300  # langid is linear in length; 300 characters (about 50 words) of prose identify a language reliably
SCRIPT_SAMPLE_CHARS = 200  # the script of 200 characters is plain enough; a regex pass per script over it
MIN_LETTERS = 20
MIN_CONFIDENCE = 0.5
UNDETERMINED = "und"

# Counting by deleting everything else is ~5x faster than findall() on CJK text.
_NOT_HAN = re.compile(r"[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_NOT_KANA = re.compile(r"[^\u3040-\u30ff]+")
_NOT_HANGUL = re.compile(r"[^\uac00-\ud7af\u1100-\u11ff]+")
_NOT_LETTER = re.compile(r"[\W\d_]+")
_OTHER_WORD = re.compile(r"[^\W\d_\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_CODE = re.compile(r"[a-z]{2}")


_unpacked: list[Path] = []  # the folder `use_unpacked_model` named, if any


def use_unpacked_model(folder: Path) -> None:
    """Map the model's arrays from `folder` (written by `pipeline.language_files.unpacked_model`) from now on."""
    _unpacked[:] = [folder]
    _identifier.cache_clear()


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    if not _unpacked:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _mapped_identifier(_unpacked[0])


def _mapped_identifier(folder: Path) -> Any:
    """py3langid's identifier over the mapped arrays: the transition table and the feature weights stay in
    the files (read through a memoryview and a read-only memmap); only the small per-state tables are
    copied, as compact arrays rather than lists of ints."""
    import numpy as np
    from py3langid.langid import LanguageIdentifier

    def load(name: str, mapped: bool = False) -> Any:
        return np.load(folder / f"{name}.npy", mmap_mode="r" if mapped else None, allow_pickle=False)

    rows = load("nextmove_row").astype(np.uint32)
    identifier = LanguageIdentifier(
        load("ptc", mapped=True),
        load("pc"),
        load("classes").tolist(),
        memoryview(load("nextmove", mapped=True)),
        array("i", load("out_feat").astype("=i4").tobytes()),
        norm_probs=True,
        tk_row=rows,
    )
    identifier._rowbase = array("I", (rows << 8).astype("=u4").tobytes())
    return identifier


def _count(pattern: re.Pattern[str], text: str) -> int:
    return len(pattern.sub("", text))


def _by_script(sample: str) -> str | None:
    han = _count(_NOT_HAN, sample)
    hangul = _count(_NOT_HANGUL, sample) if han * 2 < len(sample) else 0
    kana = _count(_NOT_KANA, sample) if han else 0
    cjk = han + hangul + kana
    if cjk < 2:
        return None
    # One Han character is about one word: weigh CJK characters against words in other scripts.
    if cjk * 2 < len(sample) and cjk < len(_OTHER_WORD.findall(sample)):
        return None
    if hangul * 2 >= cjk:
        return "ko"
    if kana * 10 >= cjk:
        return "ja"
    return "zh"


def detect_language(text: str, *, hint: str | None = None) -> str:
    """ISO 639-1 code of `text`; `hint` (the source's declared language) breaks ties and short texts."""
    fallback = hint.split("-")[0].lower() if hint and _CODE.fullmatch(hint.split("-")[0].lower()) else UNDETERMINED
    by_script = _by_script(text[:SCRIPT_SAMPLE_CHARS])
    if by_script:
        return by_script
    sample = text[:SAMPLE_CHARS]
    if _count(_NOT_LETTER, sample) < MIN_LETTERS:
        return fallback
    code, confidence = _identifier().classify(sample)
    if confidence < MIN_CONFIDENCE or not isinstance(code, str) or not _CODE.fullmatch(code):
        return fallback
    return code
