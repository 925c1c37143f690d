from __future__ import annotations

import pytest

from pipeline.normalize.text import clean_inline, clean_lines, fold, is_cjk, join_cjk_aware


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ", "ABC"),
        ("ｘｙｚ", "xyz"),
        ("０１２３４５６７８９", "0123456789"),
        ("２０２２年５月５日", "2022年5月5日"),
        ("Ｂ２Ｂ平台", "B2B平台"),
        # Chinese punctuation is kept as it is
        ("你好，世界。", "你好，世界。"),
        ("标题：内容", "标题：内容"),
        ("“引号”", "“引号”"),
        ("（括号）", "（括号）"),
        ("！？；", "！？；"),
        ("《通知》", "《通知》"),
        ("＋－＝％", "＋－＝％"),
        # zero-width and bidi marks disappear
        ("跨\u200b境", "跨境"),
        ("a\u200cb\u200dc", "abc"),
        ("\ufeff开头", "开头"),
        ("soft\u00adhyphen", "softhyphen"),
        ("x\u2060y", "xy"),
        ("\u202eevil\u202c", "evil"),
        # NFC
        ("Cafe\u0301", "Café"),
        ("plain ascii", "plain ascii"),
        ("", ""),
    ],
)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  a  b  ", "a b"),
        ("a\tb", "a b"),
        ("a\u00a0b", "a b"),
        ("a\u3000b", "a b"),
        ("\u3000\u3000首行缩进", "首行缩进"),
        ("line one\nline two", "line one\nline two"),
        ("line one\r\nline two", "line one\nline two"),
        ("one\n\n\n  two  \n\nthree", "one\ntwo\nthree"),
        ("  \n  \n ", ""),
        ("中 文", "中文"),
        ("中文 English 中文", "中文 English 中文"),
        ("你好 ，世界", "你好，世界"),
        ("“引用。” 他说", "“引用。” 他说"),
        ("a\x00b\x07c", "a b c"),
        ("a\u2028b", "a\nb"),
        ("Ｆｕｌｌ　ｗｉｄｔｈ", "Full width"),
        ("한국어 문장", "한국어 문장"),
    ],
)
def test_clean_lines(raw: str, expected: str) -> None:
    assert clean_lines(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Title\nacross lines ", "Title across lines"),
        ("标题\n第二行", "标题第二行"),
        ("标题 \n  第二行", "标题第二行"),
        ("外贸新业态 跨境电商综试区扩容", "外贸新业态 跨境电商综试区扩容"),
        ("外贸新业态\u3000\u3000跨境电商", "外贸新业态 跨境电商"),
        ("你好 ，世界 。", "你好，世界。"),
        ("Title\n中文", "Title 中文"),
        ("\u200b", ""),
        ("Ｎｅｗｓ　２４", "News 24"),
    ],
)
def test_clean_inline(raw: str, expected: str) -> None:
    assert clean_inline(raw) == expected


@pytest.mark.parametrize(
    ("char", "expected"),
    [("中", True), ("，", True), ("。", True), ("あ", True), ("a", False), ("1", False), ("“", False), ("한", False)],
)
def test_is_cjk(char: str, expected: bool) -> None:
    assert is_cjk(char) is expected


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        ("中文。", "下一段", "中文。下一段"),
        ("English.", "Next", "English. Next"),
        ("", "x", "x"),
        ("x", "", "x"),
        ("abc", "中文", "abc中文"),
    ],
)
def test_join_cjk_aware(left: str, right: str, expected: str) -> None:
    assert join_cjk_aware(left, right) == expected


def test_folding_is_idempotent() -> None:
    text = "Ａ\u200b１，\u3000 中 文\n\n x"
    assert clean_lines(clean_lines(text)) == clean_lines(text)
