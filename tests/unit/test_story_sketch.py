"""Story fingerprints: shingles that ignore formatting, sketches that estimate similarity, stable keys."""

from __future__ import annotations

import random
import re
import sys
from datetime import UTC, datetime

import numpy as np
import pytest

from pipeline.stories import sketch
from pipeline.stories.match import jaccard

AT = datetime(2024, 5, 5, 13, 0, tzinfo=UTC)
# Text written for these tests: a few sentences of Chinese wire copy, long enough for every band.
WIRE = (
    "国家统计局今日公布数据显示，前四个月全国规模以上工业企业实现利润总额同比增长百分之六点五。"
    "其中，高技术制造业利润增长较快，装备制造业对工业利润增长的贡献明显上升。"
    "分析人士认为，随着稳增长政策持续发力，工业企业效益有望继续改善，但外需放缓仍是主要风险。"
    "统计局工业司首席统计师表示，下一步将密切关注企业成本变化和市场需求走势。"
)


def _exact(a: str, b: str) -> float:
    first, second = set(sketch.shingle_hashes(a).tolist()), set(sketch.shingle_hashes(b).tolist())
    return len(first & second) / len(first | second)


def test_formatting_does_not_change_the_shingles() -> None:
    reformatted = WIRE.replace("，", ", ").replace("。", ".\n\n") + "  "
    assert np.array_equal(np.unique(sketch.shingle_hashes(WIRE)), np.unique(sketch.shingle_hashes(reformatted)))
    assert np.array_equal(sketch.shingle_hashes("Apple Inc RAISES"), sketch.shingle_hashes("apple, inc. raises!"))


def test_chinese_is_shingled_by_characters_and_other_text_by_words() -> None:
    assert len(sketch.shingle_hashes("跨境电商综试区")) == 5  # 7 characters: 5 three-character shingles
    assert len(sketch.shingle_hashes("cross border trade zones expand")) == 3  # 5 words: 3 three-word shingles
    assert len(sketch.shingle_hashes("ab")) == 1 and len(sketch.shingle_hashes("，。!?")) == 0


def test_a_word_hashes_the_same_wherever_it_stands() -> None:
    early = set(sketch.shingle_hashes("ports reopen after the storm today").tolist())
    late = set(sketch.shingle_hashes("officials said ports reopen after the storm").tolist())
    assert len(early & late) == 3  # "ports reopen after", "reopen after the", "after the storm": shifted words agree
    assert len(early & late) < len(early)


def test_mixed_text_follows_its_majority_script() -> None:
    mostly_chinese = "蔚来ET7新能源汽车使用HFO-1234yf制冷剂"  # 24 kept characters (12 CJK): 22 shingles
    assert len(sketch.shingle_hashes(mostly_chinese)) == 22
    words = "Tencent 腾讯 launches Level Infinite"  # tencent, 腾, 讯, launches, level, infinite: 4 shingles
    assert len(sketch.shingle_hashes(words)) == 4
    assert len(sketch.shingle_hashes(words, cjk=True)) == len("tencent腾讯launcheslevelinfinite") - 2


def test_a_batch_gives_each_text_its_own_fingerprint() -> None:
    texts = [
        sketch.Text("a", "工业利润", WIRE, AT),
        sketch.Text("b", "", "", AT),
        sketch.Text("c", "Ports reopen", "Ports reopen after the storm, officials said.", AT),
        sketch.Text("d", "跨境", "电商", AT),
        sketch.Text("e", "工业利润增长", WIRE * 3, AT),
    ]
    together = sketch.fingerprints(texts)
    alone = [sketch.fingerprint(t.article_id, t.title, t.body, t.at) for t in texts]
    assert together == alone
    assert together[1].bands == () and len(together[3].bottom) == 2


def test_characters_beyond_the_basic_plane_are_dropped_not_crashing() -> None:
    assert np.array_equal(sketch.shingle_hashes("05-18 📉 -0.1839%"), sketch.shingle_hashes("05-18 -0.1839%"))


def test_identical_texts_have_identical_fingerprints() -> None:
    a = sketch.fingerprint("a", "工业利润增长", WIRE, AT)
    b = sketch.fingerprint("b", "工业利润增长", WIRE, AT)
    assert (a.bottom, a.bands, a.size, a.keys) == (b.bottom, b.bands, b.size, b.keys)
    assert [key[:3] for key in a.bands] == [f"b{i}:" for i in range(sketch.BANDS)]
    assert len(a.keys) == sketch.BANDS + 1  # no figures in that title: no figures key


def test_bottom_k_estimates_jaccard() -> None:
    rng = random.Random(7)
    base = "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(3000))
    for cut in (300, 1200, 2400):
        other = base[cut:] + "".join(chr(0x4E00 + rng.randrange(3000)) for _ in range(cut))
        estimate = jaccard(sketch.fingerprint("a", "", base, AT), sketch.fingerprint("b", "", other, AT))
        assert estimate == pytest.approx(_exact(base, other), abs=0.1)


def test_sizes_count_distinct_shingles_and_repeats_do_not_shrink_the_sketch() -> None:
    assert sketch.fingerprint("a", "", "跨境电商综试区", AT).size == 5
    repetitive = "储能产业再获突破。" * 60 + WIRE  # a phrase repeated: its shingles recur dozens of times
    fp = sketch.fingerprint("b", "", repetitive, AT)
    assert fp.size == len(set(sketch.shingle_hashes("\n" + repetitive).tolist()))
    assert len(fp.bottom) == sketch.BOTTOM_K and len(set(fp.bottom)) == sketch.BOTTOM_K


def test_near_copies_share_bands_and_unrelated_texts_do_not() -> None:
    original = sketch.fingerprint("a", "工业利润", WIRE * 3, AT)
    edited = sketch.fingerprint("b", "工业利润", (WIRE * 3).replace("百分之六点五", "6.5%"), AT)
    other = sketch.fingerprint("c", "央行公开市场操作", "央行今日开展七天期逆回购操作，中标利率持平。" * 6, AT)
    assert set(original.bands) & set(edited.bands)
    assert not set(original.bands) & set(other.bands)


@pytest.mark.parametrize(
    ("title", "normalized", "figures"),
    [
        ("里昂：下调港交所(00388.HK)目标价至574港元", "里昂下调港交所388hk目标价至574港元", ("388", "574")),
        ("里昂：维持港交所(0388.HK)买入评级", "里昂维持港交所388hk买入评级", ("388",)),
        ("10月CPI上涨1.5% PPI涨幅扩大至13.5%", "10月cpi上涨1.5ppi涨幅扩大至13.5", ("1.5", "10", "13.5")),
        ("开站大吉", "开站大吉", ()),
    ],
)
def test_titles_and_figures_are_normalized(title: str, normalized: str, figures: tuple[str, ...]) -> None:
    assert sketch.title_text(title) == normalized
    assert sketch.figures(title) == figures


def _titles(count: int, seed: int) -> list[str]:
    """Titles built to hit the rules: zeros before and inside numbers, points between digits and not,
    uppercase, full-width and other digits, CJK, punctuation."""
    rng = random.Random(seed)
    pool = [
        *"0123456789..00AbZ中国港交所：()- ,%",
        "00388.HK",
        "0.5",
        ".5",
        "5.",
        "1.0.0",
        "٣٤",
        "２０",
        "Ⅷ",
        "İ",
        "ΣΑΣ",
    ]
    return ["".join(rng.choices(pool, k=rng.randint(0, 30))) for _ in range(count)]


def test_a_titles_text_and_figures_come_from_one_reading() -> None:
    cjk = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    keep = re.compile(rf"[^0-9a-z.{cjk}]+|(?<!\d)\.|\.(?!\d)")  # the rules as one expression
    zeros, number = re.compile(r"(?<![\d.])0+(?=\d)"), re.compile(r"\d+(?:\.\d+)?")
    for title in _titles(3_000, 3):
        expected = (
            keep.sub("", zeros.sub("", title.lower()))[: sketch.TITLE_CHARS],
            tuple(sorted(set(number.findall(zeros.sub("", title))))),  # the figures as written, not lowercased
        )
        assert sketch.headline(title) == expected == (sketch.title_text(title), sketch.figures(title)), title


def test_lowercasing_keeps_every_digit_and_point_and_makes_none() -> None:
    """Why a title's figures can be read from its lowercased copy: `str.lower` maps digits and points to
    themselves and no other character to a digit or a point (every code point checked)."""
    digit_or_point = re.compile(r"[\d.]")
    for code in (*range(0xD800), *range(0xE000, sys.maxunicode + 1)):
        char = chr(code)
        if digit_or_point.match(char):
            assert char.lower() == char, hex(code)
        else:
            assert not digit_or_point.search(char.lower()), hex(code)


def test_title_and_figures_keys_agree_across_spellings() -> None:
    a = sketch.fingerprint("a", "里昂：下调港交所(00388.HK)目标价至574港元", "正文一", AT)
    b = sketch.fingerprint("b", "里昂：维持港交所(0388.HK)买入评级 目标价下调至574港元", "正文二", AT)
    (a_title, a_figures), (b_title, b_figures) = a.headline_keys, b.headline_keys
    assert a_figures == b_figures and a_title != b_title and a_title.startswith("t:") and a_figures.startswith("f:")
    assert [key[:2] for key in sketch.fingerprint("c", "标题", "", AT).headline_keys] == ["t:"]  # no figures


def test_sketches_pack_and_unpack() -> None:
    bottom = sketch.fingerprint("a", "t", WIRE, AT).bottom
    assert sketch.unpack(sketch.pack(bottom)) == bottom and sketch.unpack(sketch.pack(())) == ()


def test_a_text_without_shingles_has_no_band_keys() -> None:
    empty = sketch.fingerprint("a", "📉", "", AT)
    assert (empty.bands, empty.bottom, empty.size, empty.keys) == ((), (), 0, ())
