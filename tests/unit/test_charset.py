from __future__ import annotations

import codecs

import pytest

from pipeline.sources.charset import declared_encoding, decode_xml

SIMPLIFIED = (
    "广东8个跨境电商综试区方案同日出炉：联动特色产业打造“闭环式”生态圈。"
    "南方财经全媒体记者梳理发现，通知着重提出跨境电商带动传统产业发展。"
)
TRADITIONAL = "臺灣出口連續十個月成長，財政部公布的資料顯示，五月出口金額創歷史新高，電子零組件與資通訊產品表現最好。"
LATIN = "Café société, naïve façade"


def doc(text: str, declaration: str = "") -> str:
    decl = f' encoding="{declaration}"' if declaration else ""
    return f'<?xml version="1.0"{decl}?>\n<rss version="2.0"><channel><title>{text}</title></channel></rss>'


@pytest.mark.parametrize(
    ("text", "declared", "codec", "encoding", "noted"),
    [
        # declared and right
        (SIMPLIFIED, "UTF-8", "utf-8", "utf-8", False),
        (SIMPLIFIED, "GB2312", "gb2312", "gb18030", False),
        (SIMPLIFIED + "镕", "GB2312", "gbk", "gb18030", False),  # GBK character in a GB2312-declared feed
        (SIMPLIFIED, "GBK", "gbk", "gb18030", False),
        (SIMPLIFIED, "GB18030", "gb18030", "gb18030", False),
        (TRADITIONAL, "Big5", "big5", "big5hkscs", False),
        (LATIN, "ISO-8859-1", "latin-1", "cp1252", False),
        (LATIN, "windows-1252", "cp1252", "cp1252", False),
        # undeclared
        (SIMPLIFIED, "", "utf-8", "utf-8", False),
        (SIMPLIFIED, "", "gbk", "gb18030", True),
        (TRADITIONAL, "", "big5", "big5hkscs", True),
        # declared and wrong
        (TRADITIONAL, "UTF-8", "big5", "big5hkscs", True),
        # a single-byte declaration on bytes that are valid UTF-8: they are UTF-8
        (SIMPLIFIED, "ISO-8859-1", "utf-8", "utf-8", True),
        (LATIN, "ISO-8859-1", "utf-8", "utf-8", True),
        ("plain ascii", "ISO-8859-1", "ascii", "cp1252", False),
        (SIMPLIFIED, "no-such-charset", "utf-8", "utf-8", True),
    ],
)
def test_decode_xml(text: str, declared: str, codec: str, encoding: str, noted: bool) -> None:
    decoded = decode_xml(doc(text, declared).encode(codec))
    assert decoded.encoding == encoding
    assert (decoded.note is not None) is noted
    if encoding != "cp1252" or text == LATIN:
        assert text in decoded.text


@pytest.mark.parametrize(
    ("bom_codec", "codec"),
    [("utf-8-sig", "utf-8"), ("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("utf-32", "utf-32-le")],
)
def test_byte_order_marks(bom_codec: str, codec: str) -> None:
    data = doc(SIMPLIFIED).encode(bom_codec)
    if bom_codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    decoded = decode_xml(data)
    assert decoded.encoding == codec
    assert SIMPLIFIED in decoded.text
    assert not decoded.text.startswith("\ufeff")


def test_utf16_without_bom() -> None:
    decoded = decode_xml(doc(LATIN).encode("utf-16-le"))
    assert decoded.encoding == "utf-16-le"
    assert LATIN in decoded.text


def test_http_charset_wins_over_the_declaration() -> None:
    data = doc(SIMPLIFIED, "ISO-8859-1").encode("gbk")
    decoded = decode_xml(data, "application/rss+xml; charset=GBK")
    assert decoded.encoding == "gb18030"
    assert SIMPLIFIED in decoded.text


def test_undecodable_bytes_fall_back_to_windows_1252() -> None:
    decoded = decode_xml(b'<?xml version="1.0"?><rss><channel><title>\x81\xff\xfe\x80</title></channel></rss>')
    assert decoded.encoding == "cp1252"
    assert decoded.note is not None


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (b'<?xml version="1.0" encoding="gb2312"?><rss/>', None, "gb2312"),
        (b"<?xml version='1.0' encoding='Big5'?><rss/>", None, "Big5"),
        (b'  \n<?xml version="1.0" encoding="utf-8" standalone="yes"?><rss/>', None, "utf-8"),
        (b'<?xml version="1.0"?><rss/>', None, None),
        (b"<rss/>", "text/xml; charset=GBK", "GBK"),
        (b"<rss/>", 'text/xml; charset="utf-8"', "utf-8"),
        (b"<rss/>", "text/xml", None),
        (b'<rss encoding="x"/>', None, None),
    ],
)
def test_declared_encoding(data: bytes, content_type: str | None, expected: str | None) -> None:
    assert declared_encoding(data, content_type) == expected
