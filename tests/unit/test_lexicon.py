"""The alias list and ticker forms behind query expansion: recognition, grouping, boundaries."""

from __future__ import annotations

import pytest

from pipeline.lexicon.aliases import ALIASES_FILE, LexiconError, finance_lexicon, parse_lexicon
from pipeline.lexicon.query import analyze_query
from pipeline.lexicon.tickers import Ticker, find_tickers, normalize_ticker


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("00388", "0388.HK"),
        ("0388", "0388.HK"),
        ("0388.HK", "0388.HK"),
        ("00388.HK", "0388.HK"),
        ("388.HK", "0388.HK"),
        ("388.hk", "0388.HK"),
        ("HK0388", "0388.HK"),
        ("HK.00388", "0388.HK"),
        ("09988.HK", "9988.HK"),
        ("600519", "600519.SH"),
        ("600519.SH", "600519.SH"),
        ("600519.SS", "600519.SH"),
        ("sh600519", "600519.SH"),
        ("SH.600519", "600519.SH"),
        ("002456", "002456.SZ"),
        ("300209.SZ", "300209.SZ"),
        ("830799", "830799.BJ"),
        ("688981", "688981.SH"),
        ("INTC.O", "INTC.US"),
        ("tsla.oq", "TSLA.US"),
        ("CS.N", "CS.US"),
        ("NIO.US", "NIO.US"),
    ],
)
def test_tickers_in_every_common_form(typed: str, normal: str) -> None:
    assert normalize_ticker(typed) == normal


@pytest.mark.parametrize(
    "text", ["2021", "388", "12345", "1234567", "FDA", "INTC", "Chalco", "00000", "100000亿", "1.5%", ""]
)
def test_numbers_and_words_are_not_tickers(text: str) -> None:
    assert normalize_ticker(text) is None


def test_tickers_found_inside_text() -> None:
    text = "港交所(00388.HK)与贵州茅台（600519）及英特尔(INTC.O)，2021年"
    assert [(text[start:end], ticker.normalized) for start, end, ticker in find_tickers(text)] == [
        ("00388.HK", "0388.HK"),
        ("600519", "600519.SH"),
        ("INTC.O", "INTC.US"),
    ]
    assert find_tickers("ABC600519") == [] and find_tickers("6005190") == []


def test_printed_forms() -> None:
    assert Ticker("0388", "HK").forms == ("00388", "0388")
    assert Ticker("9988", "HK").forms == ("09988", "9988")
    assert Ticker("600519", "SH").forms == ("600519",)
    assert Ticker("INTC", "US").forms[:2] == ("INTC", "INTC.O")
    assert "MS" not in Ticker("MS", "US").forms  # too short to match alone


def test_the_bundled_list_loads_and_groups_names_and_codes() -> None:
    lexicon = finance_lexicon()
    assert len(lexicon.groups) >= 200
    hkex = lexicon.group_of("上交所")
    assert hkex is not None and hkex.names[0] == "上海证券交易所"
    for typed in ("港交所", "香港交易所", "HKEX", "00388", "0388.HK", "388.HK"):
        group = lexicon.group_of(typed)
        assert group is not None and group.names[0] == "香港交易所", typed
    moutai = lexicon.group_of("600519")
    assert moutai is not None and {"贵州茅台", "茅台", "600519"} <= set(moutai.variants)
    assert lexicon.group_of("who") is None and lexicon.group_of("WHO") is not None  # acronyms as written
    assert lexicon.group_of("tesla") is lexicon.group_of("特斯拉")  # other Latin names in any case


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("上交所", "needs two or more names"),
        ("上交所 | ", "needs two or more names"),
        ("a | b\nb | c", "'b' is already in the group of line 1"),
        ("港交所 | 00388.HK", "write the code '00388.HK' as '0388.HK'"),
        ("0388.HK | 600519.SH", "a group needs a name"),
    ],
)
def test_malformed_lists_are_refused_with_the_line(text: str, message: str) -> None:
    with pytest.raises(LexiconError, match="test, line"):
        parse_lexicon(text, origin="test")
    with pytest.raises(LexiconError) as caught:
        parse_lexicon(text, origin="test")
    assert message in str(caught.value)


def test_the_bundled_file_has_comments_and_one_group_per_line() -> None:
    text = ALIASES_FILE.read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "?" not in text.replace("#", "\n#").split("\n#")[0]


@pytest.mark.parametrize(
    ("query", "mentioned", "rest"),
    [
        ("上交所", ["上交所"], ""),
        ("郑商所纯碱", ["郑商所"], "纯碱"),
        ("央行降准", ["央行", "降准"], ""),
        ("美债上限", ["美债上限"], ""),
        ("人民币升值", ["升值"], "人民币"),
        ("debt ceiling", ["debt ceiling"], ""),
        ("0388.HK 目标价", ["0388.HK"], "目标价"),
        ("INTC", ["INTC"], ""),
        ("港股通", [], "港股通"),  # 港股 inside a longer word is not 港股
        ("印度央行降息", ["印度央行"], "降息"),  # another central bank, not the PBoC
        ("Fedora", [], "Fedora"),  # Latin names are whole words
        ("跨境电商综试区", [], "跨境电商综试区"),
    ],
)
def test_what_a_query_names(query: str, mentioned: list[str], rest: str) -> None:
    analyzed = analyze_query(query)
    assert [mention.text for mention in analyzed.mentions] == mentioned
    assert analyzed.rest == rest


def test_mentions_carry_every_way_of_writing_them() -> None:
    (hkex,) = analyze_query("00388").mentions
    assert hkex.variants[:3] == ("00388", "0388", "香港交易所") and "港交所" in hkex.variants
    assert hkex.tickers == ("0388.HK",)
    (fed,) = analyze_query("Fed").mentions
    assert "美联储" in fed.variants and fed.tickers == ()
    assert analyze_query("长城汽车 601633.SH").tickers == ("601633.SH", "2333.HK")


@pytest.mark.parametrize("quoted", ['"港交所"', "“港交所”", "「港交所」"])
def test_what_the_editor_quotes_is_taken_literally(quoted: str) -> None:
    (mention,) = analyze_query(quoted).mentions
    assert (mention.text, mention.variants, mention.literal, mention.tickers) == ("港交所", ("港交所",), True, ())
    assert analyze_query(quoted).literal


def test_quotes_leave_the_rest_of_the_query_expanded() -> None:
    analyzed = analyze_query('"港交所" 上交所 目标价')
    literal, named = analyzed.mentions
    assert (literal.text, literal.literal) == ("港交所", True)
    assert named.text == "上交所" and "上海证券交易所" in named.variants and not named.literal
    assert analyzed.rest == "目标价"
    assert not analyze_query("港交所").literal and analyze_query('""').mentions == ()
