"""The native sketching step (native/, `newsflow_native.Sketcher`) gives exactly the numpy path's values.

`make install` builds it; where it is missing these tests fail (they never skip), as
test_native_keywords.py does. Compared for every text, with `cjk` True, False and None: the sorted shingle
hashes, the 64 densified bins, and what a fingerprint keeps (distinct shingles, bottom-k, band keys).
Texts: the bench corpora (seed-sized and mixed, every language), the 218 real posts of ../shared/data as
story grouping reads them, texts of 0 to 3 tokens, texts past the character and token cuts, emoji and
characters beyond the BMP, mixed scripts, and random texts built to hit the rules.
"""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import UTC, datetime
from types import ModuleType

import numpy as np
import pytest

from pipeline.bench import corpus
from pipeline.stories import grouping, sketch
from pipeline.stories.evaluation import read_corpus
from pipeline.transform import to_article
from tests.support.post_corpus import corpus_dir

NOW = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CJK_CHOICES: tuple[bool | None, ...] = (True, False, None)


def _native() -> ModuleType:
    try:
        import newsflow_native
    except ImportError as error:  # a failure, not a skip: see the module docstring
        pytest.fail(f"the native sketching step is not installed (make install builds native/): {error}")
    return newsflow_native


def _numpy_bins(text: str, cjk: bool | None) -> list[int]:
    hashes = sketch.shingle_hashes(text, cjk=cjk)
    return sketch._bins(hashes).tolist() if len(hashes) else []


def _differences(texts: list[str], choices: tuple[bool | None, ...] = CJK_CHOICES) -> list[str]:
    """Every (text, cjk) on which the two paths differ, and in what."""
    _native()
    step = sketch.native_step()
    found = []
    for text in texts:
        for cjk in choices:
            parts = {
                "hashes": (sketch.shingle_hashes(text, cjk=cjk).tolist(), step.shingle_hashes(text, cjk)),
                "bins": (_numpy_bins(text, cjk), step.bins(text, cjk)),
                "sketch": (sketch.numpy_sketch(text, cjk), sketch.native_sketch(text, cjk)),
            }
            found.extend(f"{text[:50]!r} (cjk {cjk}): {name} differ" for name, (a, b) in parts.items() if a != b)
    return found


def test_the_pipeline_uses_the_native_step() -> None:
    module = _native()
    assert sketch.SKETCH_STEP == "native"
    assert sketch.sketch_text is sketch.native_sketch
    assert isinstance(sketch.native_step(), module.Sketcher)
    text = "央行宣布下调存款准备金率0.5个百分点，释放长期资金约1万亿元。" * 3
    fingerprint = sketch.fingerprint("a", "央行降准", text, NOW, cjk=True)
    size, bottom, bands = sketch.numpy_sketch(f"央行降准\n{text}", True)
    assert (fingerprint.size, fingerprint.bottom, fingerprint.bands) == (size, bottom, bands)
    assert size > 0 and len(bands) == sketch.BANDS


def _article_differences(texts: list[sketch.Text]) -> list[str]:
    """Every article whose title and body, handed over apart (as `sketch.fingerprint` does), sketch otherwise
    than their joined text on the numpy path."""
    step = sketch.native_step()
    return [
        f"{t.title[:30]!r} (cjk {t.cjk}): the parts differ"
        for t in texts
        if step.sketch_joined((t.title, "\n", t.body), t.cjk) != sketch.numpy_sketch(f"{t.title}\n{t.body}", t.cjk)
    ]


def test_the_bench_corpora() -> None:
    texts: list[tuple[str, bool | None]] = []
    articles: list[sketch.Text] = []
    for count, seed, mix in ((700, 21, corpus.SEED_SIZED), (700, 22, None)):
        for item in corpus.generate(count, seed, mix):
            text = grouping.article_text(to_article(item.raw, normalized_at=NOW))
            texts.append((f"{text.title}\n{text.body}", text.cjk))
            articles.append(text)
    languages = {cjk for _, cjk in texts}
    assert languages == {True, False}, languages  # Chinese and other languages both read
    assert len(texts) == 1400
    # As the pipeline reads them (its `cjk`), and each read the other two ways.
    assert [d for text, cjk in texts for d in _differences([text], (cjk,))] == []
    assert _differences([text for text, _ in texts]) == []
    assert _article_differences(articles) == []


def test_the_real_posts() -> None:
    posts = [post for post in read_corpus(corpus_dir()) if post.article is not None]
    assert len(posts) >= 200  # the 218 files, less the ones the parser refuses
    texts = [grouping.article_text(post.article) for post in posts if post.article is not None]
    assert [d for t in texts for d in _differences([f"{t.title}\n{t.body}"], (t.cjk,))] == []
    assert _differences([f"{t.title}\n{t.body}" for t in texts]) == []
    assert _article_differences(texts) == []


FEW_TOKENS = [
    "",
    "\n",
    " \t\r\n。，！",
    "🙂",
    "a",
    "A",
    "中",
    "ab",
    "a b",
    "中国",
    "a 中",
    "中 a",
    "a b c",
    "中国人",
    "abc 中国",
    "One two three",
    "1 2 3",
    "x\n",
    "\nx",
    "\u3040",  # the first kept CJK code point
    "\u303f",  # just below it (not kept)
    "\uffff",
    "\U0001f600\U0001f600 a",
]


def test_texts_of_no_to_three_tokens() -> None:
    for cjk in CJK_CHOICES:  # each way of reading has texts of 0, 1, 2 and 3 tokens here
        assert {len(sketch._tokens(text, cjk)) for text in FEW_TOKENS} >= {0, 1, 2, 3}
    assert _differences(FEW_TOKENS) == []


def _long_texts() -> list[str]:
    rng = random.Random(5)
    chinese = "央行宣布下调存款准备金率释放长期资金约万亿元人工智能芯片跨境电商新能源汽车"
    words = ["market", "Shares", "ROSE", "3.5%", "in", "trading", "x", "Tesla", "GDP2024", "naïve", "Straße"]
    texts = [
        "".join(rng.choices(chinese, k=20_000)),
        " ".join(rng.choices(words, k=5_000)),
        "a" * 20_000,  # one word past the character cut
        "ab " * 2_700,  # the character cut inside a word
        "ab " * 2_666 + "abcdef",  # a word across the 8,000th character
        " ".join(["w"] * 999) + " longword" + " z" * 10,  # the 1,000th token a word still being read
        " ".join(["w"] * 1_000),  # exactly MAX_TOKENS tokens
        " ".join(["w"] * 1_001),
        "中" * 1_000,
        "中" * 1_001,
        "中" * 1_249 + "国" * 10,  # around the CJK character cut
        "，" * 1_200 + "中国经济" * 100,  # punctuation spends the CJK cut
        "，" * 7_990 + "中国经济增长" * 10,  # and the word cut
        "".join(rng.choices(chinese + " abc,.", k=30_000)),
    ]
    # Word-then-CJK texts whose word hashes sit at positions near the cuts.
    for start in (0, 1, 997, 998, 999, 1_000, 1_248, 1_249, 1_250, 1_251, 7_998, 7_999, 8_000):
        texts.append(" " * start + "word 中国经济 more words 中国")
        texts.append("中" * start + "word 中国经济 more words 中国")
    return texts


def test_texts_past_the_cuts() -> None:
    texts = _long_texts()
    assert max(len(t) for t in texts) > sketch._MAX_CHARS
    assert _differences(texts) == []


MIXED = [
    "🙂🙂 😀😀😀 人工智能🙂人工智能🙂人工智能🙂 🇨🇳🇺🇸 👨‍👩‍👧 a🙂b🙂c",
    "\U00020000\U00020001\U0002a6df 𠀀𠀁 \U00030000\U00030001 中国 \U0010ffff \U0001d400\U0001d401 bold",
    "مرحبا بالعالم привет мир こんにちは世界 안녕하세요 세계 สวัสดีชาวโลก Γειά σου κόσμε",
    "Apple苹果Apple苹果 iPhone15 iPhone 15 5G网络 网络5G ＡＢＣ ｔｈｅ Ｔｅｓｌａ 特斯拉Ｔｅｓｌａ",
    "e\u0301e\u0301 cafe\u0301 naïve NAÏVE ǅǅ ﬁﬁ ß ẞ İstanbul ΣΑΣ σας K Å Ω",
    "〇〇〇 ⅧⅧ Ⅷ ²² ①② ፩፪ ٣٤ ߁߂ ２０２４ 3.14 50%",
    "カタカナ ひらがな 漢字 한국어 ﾊﾝｶｸ ｶﾀｶﾅ \u30ff\u3400\u4dbf\u9fff\uac00\ud7af\uf900\ufaff",
    "\0\x01\x7f\x80\xa0\xad\u200b\u200d\u2028\u2029\ufeff text\0中文",
    "\ue000\ue001 \uffff\ufffe private use",
    "中国 economy grows 经济增长 3% in 2024 年 the 中 a 国 b",  # about half CJK: the `None` rule's edge
    "ab 中",  # one word, one character: CJK under `None`
    "abc de 中",  # two words, one character: words under `None`
]


def test_emoji_characters_beyond_the_bmp_and_mixed_scripts() -> None:
    assert _differences(MIXED) == []


def _random_texts(count: int, seed: int) -> list[str]:
    """Texts of units from a pool that crosses every class the table knows (and random code points)."""
    rng = random.Random(seed)
    pool = [
        *"abcXYZ019 .,-_'\n\t\0",
        *"中国经济人工智能の日本語한국어カナ",
        "word", "Word", "WORD", "naïve", "İ", "ß", "K", "Σ", "ǅ", "②", "Ⅷ", "٣", "２０", "ｆｕｌｌ",
        "🙂", "\U00020000", "\U0010ffff", "\uffff", "\u3040", "\u303f", "\u30ff", "\u3100", "\uac00", "\ud7af",
    ]  # fmt: skip
    texts = []
    for _ in range(count):
        units = rng.sample(pool, rng.randint(1, len(pool)))
        units += [chr(rng.choice((rng.randint(0, 0xD7FF), rng.randint(0xE000, 0x10FFFF)))) for _ in range(5)]
        texts.append("".join(rng.choices(units, k=rng.choice((rng.randint(0, 12), rng.randint(0, 3_000))))))
    return texts


def test_random_texts() -> None:
    assert _differences(_random_texts(1_500, 7)) == []


ZERO = "械一走"  # three characters whose shingle hashes to 0, the value the native step's table marks free slots with


def test_a_shingle_hash_of_zero() -> None:
    assert sketch.shingle_hashes(ZERO, cjk=True).tolist() == [0]
    texts = [ZERO, ZERO * 3, f"中国经济{ZERO}增长", f"{ZERO}，{ZERO}。" * 40 + "央行宣布下调存款准备金率" * 30]
    assert all(0 in sketch.shingle_hashes(text, cjk=True) for text in texts)
    assert _differences(texts) == []


def test_parts_read_as_their_join() -> None:
    """`sketch_joined` reads the first characters of each part where it is: the same as the joined text,
    wherever the parts are cut (around the character cuts too), empty parts included."""
    step = sketch.native_step()
    rng = random.Random(11)
    texts = _long_texts()[:14] + MIXED + FEW_TOKENS + _random_texts(200, 13)
    checked = 0
    for text in texts:
        cuts = {0, len(text), sketch._MAX_CJK_CHARS, sketch._MAX_CHARS, *(rng.randint(0, len(text)) for _ in range(3))}
        for cut in sorted(c for c in cuts if c <= len(text)):
            for parts in ((text[:cut], text[cut:]), (text[:cut], "", text[cut:]), ("", text[:cut], "\n", text[cut:])):
                for cjk in CJK_CHOICES:
                    joined = "".join(parts)
                    assert step.sketch_joined(parts, cjk) == sketch.numpy_sketch(joined, cjk), (joined[:40], cut, cjk)
                    checked += 1
    assert checked > 2_000


def test_a_surrogate_is_refused_only_where_it_is_read() -> None:
    _native()
    step = sketch.native_step()
    past_the_cut = "中" * sketch._MAX_CJK_CHARS + "\ud800"  # the numpy path does not read it either
    assert step.sketch_joined(("标题", "\n", past_the_cut), True) == sketch.numpy_sketch(f"标题\n{past_the_cut}", True)
    with pytest.raises(UnicodeEncodeError):
        sketch.numpy_sketch(f"标题\n{past_the_cut}", None)  # read up to 8,000 characters: it is
    with pytest.raises(UnicodeEncodeError):
        step.sketch_joined(("标题", "\n", past_the_cut), None)
    with pytest.raises(UnicodeEncodeError):
        step.sketch_joined(("标\udfff题", "\n", "正文"), True)


def test_the_native_step_holds_this_modules_tables() -> None:
    _native()
    # Its tables are handed over, not written again: a changed table changes the native values too.
    assert len(sketch._LOWER) == 0x10000 and sketch._LOWER.dtype == np.uint16
    assert len(sketch._POWERS) == sketch._MAX_CHARS
    # The 1- and 2-token hash multiplies by a literal; the native step by `_H[0]`.
    assert int(sketch._H[0]) == 0x9E3779B1


def test_surrogates_are_refused_alike() -> None:
    _native()
    for step in (sketch.numpy_sketch, sketch.native_sketch):
        with pytest.raises(UnicodeEncodeError):
            step("中国\ud800经济", None)


def test_without_the_module_the_numpy_path_runs() -> None:
    code = (
        "import sys; sys.modules['newsflow_native'] = None\n"  # import fails, as where it was never built
        "from datetime import UTC, datetime\n"
        "from pipeline.stories import sketch\n"
        "f = sketch.fingerprint('a', '央行降准', '央行宣布下调存款准备金率' * 3, datetime.now(UTC), cjk=None)\n"
        "print(sketch.SKETCH_STEP, sketch.sketch_text is sketch.numpy_sketch, f.size, len(f.bands))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    _native()
    expected = sketch.native_sketch("央行降准\n" + "央行宣布下调存款准备金率" * 3, None)
    assert out == ["numpy", "True", str(expected[0]), str(sketch.BANDS)]
