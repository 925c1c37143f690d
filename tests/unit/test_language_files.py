"""The language model unpacked into files and mapped: the same answers as the model read into memory."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline import language_files
from pipeline.bench import corpus
from pipeline.normalize import language
from pipeline.normalize.html_text import html_to_text

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def in_memory() -> Iterator[None]:
    language._unpacked.clear()
    language._identifier.cache_clear()
    yield
    language._unpacked.clear()
    language._identifier.cache_clear()


def _samples() -> list[str]:
    """Texts that reach the model: the bench corpus's bodies in every language, cut as the pipeline cuts them,
    real posts, and texts made of random words from them (unusual byte sequences for the transition table)."""
    texts = [html_to_text(item.raw.content_html or "")[: language.SAMPLE_CHARS] for item in corpus.generate(600, 7)]
    texts += [path.read_text("utf-8", "replace")[:2000] for path in sorted(DATA.rglob("*.md"))[:60]]
    words = " ".join(texts).split()
    rng = random.Random(3)
    texts += [" ".join(rng.choices(words, k=rng.randint(1, 60))) for _ in range(300)]
    texts += ["", "a", "ÀÉÎÕÜ ß ŒÆ", "Ελληνικά κείμενα για δοκιμή", "русский текст для проверки языка", "😀" * 40]
    return texts


def test_the_mapped_model_answers_as_the_model_in_memory(tmp_path: Path, in_memory: None) -> None:
    texts = _samples()
    memory = language._identifier()
    expected = [memory.classify(text) for text in texts]
    language.use_unpacked_model(language_files.unpacked_model(tmp_path))
    mapped = language._identifier()
    assert mapped is not memory
    assert isinstance(mapped.nb_ptc, np.memmap)  # really mapped, not read into memory
    assert isinstance(mapped.tk_nextmove, memoryview)
    assert [mapped.classify(text) for text in texts] == expected
    assert len({code for code, _ in expected}) >= 5  # the samples exercise several languages


def test_detect_language_with_the_mapped_model(tmp_path: Path, in_memory: None) -> None:
    texts = _samples()
    expected = [language.detect_language(text, hint="en") for text in texts]
    language.use_unpacked_model(language_files.unpacked_model(tmp_path))
    assert [language.detect_language(text, hint="en") for text in texts] == expected


def test_unpacked_once_and_reused(tmp_path: Path) -> None:
    folder = language_files.unpacked_model(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.npy" for name in language_files.ARRAYS)
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert language_files.unpacked_model(tmp_path) == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == stamps
    assert [p for p in folder.parent.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_a_folder_with_a_file_lost_is_unpacked_again(tmp_path: Path) -> None:
    folder = language_files.unpacked_model(tmp_path)
    expected = (folder / "ptc.npy").read_bytes()
    (folder / "ptc.npy").unlink()
    assert language_files.unpacked_model(tmp_path) == folder
    assert (folder / "ptc.npy").read_bytes() == expected
    assert [p for p in folder.parent.iterdir() if p.name.startswith(".")] == []


def test_not_a_model_is_refused_with_its_name(tmp_path: Path) -> None:
    import lzma

    bogus = tmp_path / "model.npz.xz"
    with lzma.open(bogus, "wb") as out:
        np.savez(out, something=np.zeros(3))
    with pytest.raises(ValueError, match=r"model\.npz\.xz: not the model layout"):
        language_files.unpacked_model(tmp_path / "cache", bogus)
    assert not list((tmp_path / "cache" / "langid").iterdir())


def test_an_unwritable_cache_is_an_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError):
        language_files.unpacked_model(blocker / "cache")


def test_the_folder_is_named_by_content_so_a_reinstall_reuses_it(tmp_path: Path) -> None:
    import os

    model = tmp_path / "model.npz.xz"
    model.write_bytes(language_files.model_file().read_bytes())
    folder = language_files.unpacked_model(tmp_path / "cache", model)
    os.utime(model, ns=(1, 1))  # a fresh install: same bytes, another time
    assert language_files.unpacked_model(tmp_path / "cache", model) == folder
    assert len(list((tmp_path / "cache" / "langid").iterdir())) == 1
