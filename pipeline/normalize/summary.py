"""The lead of an article: its first paragraph(s), bounded in length.

Paragraphs are taken from the top while the lead is shorter than `MIN_LEAD_CHARS` (a dateline or a
one-line opener is not a lead by itself). A lead over `limit` characters is cut after the last
sentence end (。！？!?; or `. `) that keeps at least half of the limit, else at the limit with `…`.
"""

from __future__ import annotations

import re

from pipeline.normalize.text import join_cjk_aware

SUMMARY_LIMIT = 200
MIN_LEAD_CHARS = 60
ELLIPSIS = "…"

_SENTENCE_END = re.compile(r"[。！？!?；;…](?:[”」』）)\"'])?|\.(?:[”\"')])?(?=\s)")


def lead(paragraphs: list[str], limit: int = SUMMARY_LIMIT) -> str:
    """First paragraph(s) of a body, at most `limit` characters, cut at a sentence end when possible."""
    text = ""
    for paragraph in paragraphs:
        text = join_cjk_aware(text, paragraph)
        if len(text) >= MIN_LEAD_CHARS:
            break
    if len(text) <= limit:
        return text
    window = text[:limit]
    cut = 0
    for match in _SENTENCE_END.finditer(window):
        cut = match.end()
    if cut >= limit // 2:
        return window[:cut].rstrip()
    return window[: limit - 1].rstrip() + ELLIPSIS


def first_sentence(paragraphs: list[str], limit: int) -> str:
    """The first sentence of the first paragraph (a headline for an item without one), at most `limit` long."""
    if not paragraphs:
        return ""
    first = paragraphs[0]
    end = _SENTENCE_END.search(first)
    return lead([first[: end.end()] if end else first], limit=limit)
