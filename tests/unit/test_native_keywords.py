"""The native keyword step (native/, `newsflow_native`) gives exactly the keywords of the Python step.

`make install` builds it; where it is missing these tests fail (they never skip): a machine that runs the
tests without it would check the Python path only and say nothing about the one the pipeline uses.
Texts compared: the Chinese articles of the bench corpora (seed-sized and mixed; the keyword window, the
whole text and a window further in), windows of every real post of ../shared/data, hand-picked odd
strings and random ones built to hit the rules (stopwords in any case, digits first, phrases, ties).
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType

import pytest

from pipeline import tagging
from pipeline.bench import corpus
from pipeline.normalize.stopwords import CHINESE, ENGLISH
from pipeline.sources import jekyll
from pipeline.transform import normalize_item, to_article
from tests.support.post_corpus import posts

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
WINDOW = tagging.CHINESE_WINDOW_CHARS
LIMITS = (10, 0, 1, 3, 25, -1)


def _native() -> ModuleType:
    try:
        import newsflow_native
    except ImportError as error:  # a failure, not a skip: see the module docstring
        pytest.fail(f"the native keyword step is not installed (make install builds native/): {error}")
    return newsflow_native


def _differences(texts: list[str], limits: tuple[int, ...] = (tagging.KEYWORD_LIMIT,)) -> list[str]:
    _native()
    found = []
    for text in texts:
        for limit in limits:
            expected = tagging.python_chinese_keywords(text, limit)
            got = tagging.native_chinese_keywords(text, limit)
            if got != expected:
                found.append(f"{text[:60]!r} (limit {limit}): python {expected}, native {got}")
    return found


def _windows(text: str) -> Iterator[str]:
    """The keyword window, windows further in, and the whole text when it is short."""
    yield text[:WINDOW]
    if len(text) <= 3 * WINDOW:
        yield text
    for start in range(WINDOW // 2, len(text) - WINDOW // 4, WINDOW):
        yield text[start : start + WINDOW]


def test_the_pipeline_uses_the_native_step() -> None:
    module = _native()
    assert tagging.KEYWORD_STEP == "native"
    assert tagging.chinese_keywords is tagging.native_chinese_keywords
    assert isinstance(tagging.native_step(), module.Keywords)


def test_the_native_segmenter_learns_the_same_terms() -> None:
    _native()
    assert tagging.native_step().terms_added == list(tagging.segmenter_terms())
    assert tagging.native_step().terms_added  # zh_terms.txt teaches it something


def test_the_native_step_reads_the_same_idf_table() -> None:
    _native()
    table, median = tagging.idf_table()
    assert tagging.native_step().idf_summary == (len(table), median)


def test_a_process_on_the_native_step_never_loads_the_python_segmenter() -> None:
    _native()
    code = (
        "import sys; from pipeline import tagging; tagging.chinese_keywords('央行宣布下调存款准备金率' * 5);"
        "print(tagging.KEYWORD_STEP, 'rjieba' in sys.modules, tagging.idf_table.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["native", "False", "0"]  # neither rjieba's dictionary nor Python's IDF dict in memory


def test_bench_corpora() -> None:
    texts: list[str] = []
    for count, seed, mix in ((700, 11, corpus.SEED_SIZED), (600, 12, None)):
        for item in corpus.generate(count, seed, mix):
            article = to_article(item.raw, normalized_at=NOW)
            if article.language == "zh":
                texts.extend(_windows(f"{article.title}\n{article.body_text}"))
    assert len(texts) > 5000
    assert _differences(texts) == []


def test_the_real_posts() -> None:
    texts: list[str] = []
    for post in posts():
        raw = jekyll.parse(post.path.read_bytes(), post.source, path=str(post.path), fetched_at=NOW)
        article = normalize_item(raw, normalized_at=NOW).article
        texts.extend(_windows(f"{article.title}\n{article.body_text}"))
    assert len(texts) >= 2 * 218
    assert _differences(texts, LIMITS) == []


ODD = [
    "",
    " ",
    "\0",
    "。，、；：？！“”《》（）",
    "!!!???...---",
    "1234567890 ２０２４ 3.14 50%",
    "5月 8个 2019年 10万元 ２０２４年",
    "〇〇〇 ⅧⅧ Ⅷ ²² ①② ①②③ ፩፪ ٣٤ ߁߂",  # numbers Python counts as letters, or digits, or both
    "ABC abc The THE the LIKE liKe like 〇a a〇",  # the Kelvin sign lowercases to k
    "ＡＢＣ ｔｈｅ ＴＨＥ Ｔｅｓｌａ ｔｅｓｌａ 特斯拉Ｔｅｓｌａ",
    "🙂🙂 😀😀😀 人工智能🙂人工智能🙂人工智能🙂",
    "e\u0301e\u0301 cafe\u0301 naïve NAÏVE ǅǅ ﬁﬁ ß ẞ İstanbul ΣΑΣ σας",
    "a_b a_b a_b __ _x_ x_ 中_国 中_国",
    "北京\0北京\0北京\0上海\0上海\0上海",
    "跨境电商" * 40,
    "跨境 电商 " * 40,
    "人工智能人工智能人工智能芯片芯片芯片人工智能芯片人工智能芯片人工智能芯片",
    "科创板" * 5 + "创板" * 5 + "科创" * 5,
    "的的的的的了了了了是是是是",
    "\u3000中国\u3000\xa0经济\u2028增长\u2029\r\n中国经济增长\t中国经济增长",
    "Apple苹果Apple苹果 iPhone15 iPhone 15 5G网络 5G网络 网络5G 网络5G",
    "مرحبا بالعالم привет мир こんにちは世界 안녕하세요 세계 สวัสดีชาวโลก",
    "\U00020000\U00020001\U0002a6df 𠀀𠀁 \U00030000\U00030001",  # Han outside the BMP (not `_HAN`)
    "\ue000\ue001 \uffff\ufffe \U0010ffff",
]


def test_odd_strings() -> None:
    assert _differences(ODD, LIMITS) == []


def _random_texts(count: int, seed: int) -> list[str]:
    """Texts of words drawn from a small vocabulary (so words and pairs repeat: phrases, ties, fragments)."""
    rng = random.Random(seed)
    zh_terms = list(tagging.terms())
    vocabulary = [
        *rng.sample(sorted(CHINESE), 20),
        *rng.sample(zh_terms, min(30, len(zh_terms))),
        *(w.upper() if rng.random() < 0.3 else w.title() for w in rng.sample(sorted(ENGLISH), 20)),
        "跨境", "电商", "人工", "智能", "芯片", "科创板", "创板", "央行", "降准", "银行", "新能源", "汽车",
        "A股", "5G", "3月", "2024年", "Tesla", "tesla", "GDP", "CPI", "iPhone", "〇", "Ⅷ", "²", "①",
        "，", "。", " ", "\n", "、", "！", "-", "_", "'", "’", "\0", "🙂", "ｆｕｌｌ", "K", "〇〇",
    ]  # fmt: skip
    texts = []
    for _ in range(count):
        words = vocabulary[: rng.randint(10, len(vocabulary))]
        # A few pairs that recur together, as the words of a compound the dictionary lacks do.
        pairs = ["".join(rng.sample(words, 2)) for _ in range(rng.randint(0, 4))]
        units = words + pairs * rng.randint(1, 12)
        texts.append("".join(rng.choices(units, k=rng.randint(0, 400))))
    return texts


def test_random_texts() -> None:
    assert _differences(_random_texts(1500, 3), (10, 2)) == []


def test_surrogates_are_refused_alike() -> None:
    _native()
    for step in (tagging.python_chinese_keywords, tagging.native_chinese_keywords):
        with pytest.raises(UnicodeEncodeError):
            step("中国\ud800经济")
