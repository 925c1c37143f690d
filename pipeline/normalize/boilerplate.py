"""Remove what is not the article from its paragraphs: site navigation, bare links, attributions.

- Trailer: trailing paragraphs that are a bare link (`<http://…>` or `http://…`), only markdown
  links (`[返回首页](//…)｜[…](…)`), or short navigation phrases (`返回首页`, `返回21世纪经济报道新闻`).
- Attribution: a paragraph that is only `（文章来源：21世纪经济报道）` (also `来源`, `稿件来源`,
  `本文来源`, `信息来源`, `资料来源`; full- or half-width brackets and colon, brackets optional),
  among the first or the last few paragraphs. It is stored as `<label>：<outlet>` with a full-width
  colon and no brackets, e.g. `文章来源：21世纪经济报道`.
"""

from __future__ import annotations

import re

ATTRIBUTION_WINDOW = 3  # paragraphs from the end (and 1 from the start) searched for an attribution

_BARE_LINK = re.compile(r"<?((?:https?:)?//[^\s<>]+)>?")
# Possessive quantifiers: no backtracking, whatever the line holds.
_MARKDOWN_LINKS = re.compile(r"\s*+(?:\[[^\]\n]{0,200}+\]\([^)\s]{0,2000}+\)\s*+[｜|·/,，、]?+\s*+)++")
_NAVIGATION = re.compile(r"(?:返回[^｜|\s]{1,30}\s*[｜|]?\s*)+|(?:回到顶部|返回顶部|Back to top)")
_ATTRIBUTION = re.compile(
    r"[（(]?\s*(?P<label>文章来源|稿件来源|本文来源|信息来源|资料来源|来源)\s*[：:]\s*(?P<who>[^（）()\n]{1,60}?)\s*[）)]?"
)


def bare_link(line: str) -> str | None:
    """The URL when a line is only a link (`<http://…>`, `http://…`, `//…`), else None."""
    match = _BARE_LINK.fullmatch(line.strip())
    return match.group(1) if match else None


def is_navigation(line: str) -> bool:
    """True when a line is only markdown links (`[返回首页](//…)｜[…](…)`) or navigation phrases."""
    line = line.strip()
    return bool(_MARKDOWN_LINKS.fullmatch(line) or (len(line) <= 60 and _NAVIGATION.fullmatch(line)))


def _is_trailer(paragraph: str) -> bool:
    return bare_link(paragraph) is not None or is_navigation(paragraph)


def strip_trailer(paragraphs: list[str]) -> list[str]:
    """Paragraphs without trailing navigation links and bare source links."""
    end = len(paragraphs)
    while end and _is_trailer(paragraphs[end - 1]):
        end -= 1
    return paragraphs[:end]


def attribution_of(paragraph: str) -> str | None:
    """`文章来源：X` when the paragraph is only an attribution line, else None."""
    if len(paragraph) > 80 or "源" not in paragraph:
        return None
    match = _ATTRIBUTION.fullmatch(paragraph)
    if match is None:
        return None
    return f"{match['label']}：{match['who'].strip()}"


def extract_attribution(paragraphs: list[str]) -> tuple[list[str], str | None]:
    """Paragraphs without attribution lines, and the first attribution found (or None)."""
    found: str | None = None
    kept: list[str] = []
    tail_start = len(paragraphs) - ATTRIBUTION_WINDOW
    for position, paragraph in enumerate(paragraphs):
        attribution = attribution_of(paragraph) if position == 0 or position >= tail_start else None
        if attribution is None:
            kept.append(paragraph)
        elif found is None:
            found = attribution
    return kept, found
