"""Stock codes: one normal form from what people type and from what news pages print."""

from __future__ import annotations

import pytest

from pipeline.normalize.tickers import normalize_ticker, tickers_in_html, tickers_in_text


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("600519", "600519.SH"),
        ("600519.SH", "600519.SH"),
        ("600519.sh", "600519.SH"),
        ("600519.SS", "600519.SH"),
        ("SH600519", "600519.SH"),
        ("sh600519", "600519.SH"),
        (" 688981 ", "688981.SH"),
        ("000001", "000001.SZ"),
        ("000001.SH", "000001.SH"),  # an explicit exchange is kept: the Shanghai index, not Ping An Bank
        ("300750", "300750.SZ"),
        ("159915", "159915.SZ"),
        ("510300", "510300.SH"),
        ("430047", "430047.BJ"),
        ("830799.BJ", "830799.BJ"),
        ("920001", "920001.BJ"),
        ("00388", "0388.HK"),
        ("0388", "0388.HK"),
        ("0388.HK", "0388.HK"),
        ("00388.HK", "0388.HK"),
        ("388.HK", "0388.HK"),
        ("HK00388", "0388.HK"),
        ("HK.00700", "0700.HK"),
        ("09988.hk", "9988.HK"),
        ("NIO.N", "NIO.US"),
        ("AAPL.O", "AAPL.US"),
        ("NIO.US", "NIO.US"),
        ("NYSE:NIO", "NIO.US"),
        ("nasdaq: aapl", "AAPL.US"),
        # not tickers: years, amounts, words, codes that fit no market
        ("2021", None),
        ("388", None),
        ("12345", None),
        ("100000", None),
        ("NIO", None),
        ("hello", None),
        ("", None),
        ("600519.HK", None),
        ("SH0388", None),
        ("SH600519.SZ", None),
    ],
)
def test_normalize_ticker(typed: str, normal: str | None) -> None:
    assert normalize_ticker(typed) == normal


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("海伦司(09869.HK)涨超10%", ["9869.HK"]),
        ("里昂：维持港交所(0388.HK)买入", ["0388.HK"]),
        ("白酒股龙头贵州茅台(600519)盘中涨逾2%", ["600519.SH"]),
        ("天泽信息（300209，SZ）收到深交所关注函", ["300209.SZ"]),
        ("海油发展（600968.SH）披露", ["600968.SH"]),
        ("高盛：首予信义能源(03868)“买入”评级", ["3868.HK"]),
        ("中国电信港股（00728）目前的股价", ["0728.HK"]),
        ("智能电动车ETF（516380）涨超2%", ["516380.SH"]),
        ("瑞士信贷(CS.N)：将Sunoco Lp（SUN.N）目标价上调", ["CS.US", "SUN.US"]),
        ("苹果（纳斯达克：AAPL）发布", ["AAPL.US"]),
        ("蔚蓝锂芯（002245.SZ）、继峰股份（603997.SH）、蔚蓝锂芯（002245.SZ）", ["002245.SZ", "603997.SH"]),
        # not codes: dates, amounts, notes in brackets, bare numbers
        ("（2020年修订）", []),
        ("提前抄底？（附名单）", []),
        ("营收（100000）万元", []),
        ("申购代码为301049，发行价(元) 4.13", []),
        ("现报6.3512（¥-0.0041）", []),
        ("GB/T4754-2017 (600519 )", []),
    ],
)
def test_tickers_in_text(text: str, found: list[str]) -> None:
    assert tickers_in_text(text) == found


@pytest.mark.parametrize(
    ("html", "found"),
    [
        (
            '<a href="http://quote.eastmoney.com/unify/r/1.600160" class="keytip" data-code="1,600160">巨化股份</a>'
            '<span data-code="0,300343">联创股份</span><a href="http://quote.eastmoney.com/unify/r/106.NIO">蔚来</a>',
            ["600160.SH", "300343.SZ", "NIO.US"],
        ),
        ('<a href="http://quote.eastmoney.com/unify/r/90.BK0493" data-code="90,BK0493">新能源</a>', []),  # a board
        ('<a class="trsHotWords" href="http://info.stcn.com/dc/stock/?stockcode=SS601211" code="601211">国泰君安</a>',
         ["601211.SH"]),
        ('<a href="https://finance.sina.com.cn/realstock/company/sz000001/nc.shtml">平安银行</a>', ["000001.SZ"]),
        ('<a href="https://stock.finance.sina.com.cn/hkstock/quotes/00700.html">腾讯</a>', ["0700.HK"]),
        ("<p>plain text with no quote links</p>", []),
    ],
)  # fmt: skip
def test_tickers_in_html(html: str, found: list[str]) -> None:
    assert tickers_in_html(html) == found
