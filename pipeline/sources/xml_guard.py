"""Refuse XML that declares entities, before feedparser sees it.

Why not trust the parsers: feedparser first tries expat through xml.sax and, when that fails, its
loose SGML parser. feedparser copies "safe" `<!ENTITY>` declarations it finds before the root
element into a fresh DOCTYPE, and both parsers then expand them: a literal entity referenced a
million times is a quadratic blow-up, and expat only limits amplification after megabytes of
output. No real news feed needs its own entities, so any entity declaration or internal DTD
subset in the prolog is refused with a clear error. External DTDs (`<!DOCTYPE rss PUBLIC … "….dtd">`,
as RSS 0.91 has) are allowed: feedparser strips the DOCTYPE and never fetches it, and external
general entities are switched off in its SAX parser.

The prolog here is everything before the first element (comments and processing instructions are
skipped properly, so `<!-- <a -->` does not end it), and at least everything before the first
`<` + word character, which is where feedparser itself looks for entity declarations.
"""

from __future__ import annotations

import re

from pipeline.errors import ParseError

_ELEMENT_START = re.compile(r"<[A-Za-z_:]")
_FEEDPARSER_HEAD_END = re.compile(r"<\w")
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)
# `[^<>\[]*+` cannot run past the next tag: linear time on any input.
_INTERNAL_SUBSET = re.compile(r"<!DOCTYPE[^<>\[]*+\[", re.IGNORECASE)


def _prolog_end(text: str) -> int:
    """Index of the first element start tag outside comments and processing instructions."""
    position = 0
    while True:
        start = text.find("<", position)
        if start < 0:
            return len(text)
        if text.startswith("<!--", start):
            end = text.find("-->", start + 4)
            if end < 0:
                return len(text)
            position = end + 3
        elif text.startswith("<?", start):
            end = text.find("?>", start + 2)
            if end < 0:
                return len(text)
            position = end + 2
        elif _ELEMENT_START.match(text, start):
            return start
        else:
            position = start + 1


def refuse_entity_declarations(text: str) -> None:
    """Raise ParseError when the document's prolog declares entities or an internal DTD subset."""
    head_end = _FEEDPARSER_HEAD_END.search(text)
    end = max(_prolog_end(text), head_end.start() if head_end else len(text))
    if _ENTITY.search(text, 0, end):
        raise ParseError(
            "the feed declares XML entities (<!ENTITY …>): refused, entity expansion can exhaust memory "
            "(billion laughs) or read local files (external entities)"
        )
    if _INTERNAL_SUBSET.search(text, 0, end):
        raise ParseError("the feed has an internal DTD subset (<!DOCTYPE … [ … ]>): refused, no news feed needs one")
