"""Which blocks of a page are the article: a readability-style vote of paragraphs for their containers.

Every block of real prose (at least `MIN_WEIGHT`; a CJK character weighs three Latin letters, since it
carries about a word) votes for its parent element with its weight, discounted by its share of link text
(squared: navigation is nearly all links), and for its grandparent with half of it. Headings and blocks
inside page furniture do not vote. The element with the most votes is the article's container. Sibling
containers and containers of the same kind (tag and class) elsewhere on the page with at least
`SIBLING_SHARE` of its votes, and prose paragraphs beside it, join it (an article split by adverts or
figures into several sections). A list never is the article (its items outvote the prose around it: the
list's parent is taken), and a lead paragraph marked as such just before it (`article__lead`) joins it.
Inside, furniture (share bars, related links, editor lines ...), link-heavy blocks and the `<h1>` (the
title) are dropped. A page where nothing votes (a bare fragment) keeps all its non-link text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from pipeline.extract.blocks import HEADINGS, Block, Tree

MIN_WEIGHT = 25
SIBLING_SHARE = 0.2
SIBLING_PARAGRAPH_WEIGHT = 80
MAX_LINK_SHARE = 0.5
FURNITURE_VOTE = 0.1
LEAD_LOOKBACK = 5

_LISTS = frozenset({"ul", "ol", "dl", "table", "tbody", "thead", "tr"})
_LEAD_WORDS = frozenset({"lead", "intro", "standfirst"})
_CLASS_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(slots=True)
class Selection:
    blocks: list[Block]
    first: int  # index in the page's blocks of the first selected block (len(blocks) when none)
    last: int  # index of the last selected block (-1 when none)
    container_found: bool


def weight(text: str) -> int:
    return len(text) + 2 * len(_CJK.findall(text))


def link_share(block: Block) -> float:
    size = len(block.text.strip())
    return min(1.0, block.link_chars / size) if size else 1.0


def _votes(blocks: list[Block]) -> dict[int, float]:
    votes: dict[int, float] = defaultdict(float)
    for block in blocks:
        if block.tag in HEADINGS or len(block.chain) < 2:
            continue
        text = " ".join(block.text.split())
        size = weight(text)
        if size < MIN_WEIGHT:
            continue
        vote = size * (1.0 - link_share(block)) ** 2
        if block.furniture:
            vote *= FURNITURE_VOTE
        votes[block.chain[-2]] += vote
        if len(block.chain) >= 3:
            votes[block.chain[-3]] += vote / 2
    return votes


def select(blocks: list[Block], tree: Tree) -> Selection:
    votes = _votes(blocks)
    if not votes:
        text = [b for b in blocks if not b.furniture and link_share(b) <= MAX_LINK_SHARE]
        return Selection(text, 0 if text else len(blocks), len(blocks) - 1 if text else -1, False)
    best = max(votes, key=votes.__getitem__)
    top = votes[best]
    parents = tree.parents
    while tree.kinds.get(best, "").split(".")[0] in _LISTS and best in parents:
        best = parents[best]  # a list's items outvote the prose around it: the article is the list's parent
    parent = parents.get(best)
    kind = tree.kinds.get(best)
    containers = {best}
    for node, vote in votes.items():
        if node == best or vote < top * SIBLING_SHARE:
            continue
        if (parent is not None and parents.get(node) == parent) or (kind and tree.kinds.get(node) == kind):
            containers.add(node)
    kept: list[Block] = []
    first, last = len(blocks), -1
    for index, block in enumerate(blocks):
        inside = _inside(block, containers)
        if inside is None:
            if not _beside(block, parent, tree):
                continue
            inside = len(block.chain) - 1
        if any(node in block.furniture for node in block.chain[inside + 1 :]):
            continue
        if link_share(block) > MAX_LINK_SHARE or block.tag == "h1":  # the headline is the title, not text
            continue
        kept.append(block)
        first = min(first, index)
        last = index
    lead = _lead(blocks, first, tree)
    if lead is not None:
        kept.insert(0, blocks[lead])
        first = lead
    return Selection(kept, first, last, True)


def _lead(blocks: list[Block], first: int, tree: Tree) -> int | None:
    """A lead paragraph just before the article body, marked as such (`class="article__lead"`)."""
    for index in range(first - 1, max(-1, first - 1 - LEAD_LOOKBACK), -1):
        block = blocks[index]
        words = {word.lower() for word in _CLASS_WORD.findall(tree.kinds.get(block.chain[-1], ""))}
        if words & _LEAD_WORDS:
            text = " ".join(block.text.split())
            if not block.furniture and weight(text) >= SIBLING_PARAGRAPH_WEIGHT and link_share(block) < 0.25:
                return index
            return None
    return None


def _inside(block: Block, containers: set[int]) -> int | None:
    """Position in the block's chain of the container it sits in, or None."""
    for position, node in enumerate(block.chain):
        if node in containers:
            return position
    return None


def _beside(block: Block, parent: int | None, tree: Tree) -> bool:
    """A prose paragraph that is a sibling of the container (the article continues after a figure or an ad)."""
    if parent is None or block.furniture or len(block.chain) < 2:
        return False
    if block.tag != "p" and tree.kinds.get(block.chain[-1]) != "div.":  # a bare <div> only formats prose
        return False
    if tree.parents.get(block.chain[-1]) != parent:
        return False
    return weight(" ".join(block.text.split())) >= SIBLING_PARAGRAPH_WEIGHT and link_share(block) < 0.25
