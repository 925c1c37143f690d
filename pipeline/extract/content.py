"""Which blocks of a page are the article: a readability-style vote of paragraphs for their containers.

Every block of real prose (at least `MIN_WEIGHT`; a CJK character weighs three Latin letters, since it
carries about a word) votes for its parent element with its weight, discounted by its share of link text
(squared: navigation is nearly all links), and for its grandparent with half of it. Headings and blocks
inside page furniture do not vote. The element with the most votes is the article's container; sibling
containers with at least `SIBLING_SHARE` of its votes and prose paragraphs beside it join it (an article
split by an advert or a figure). Inside, furniture (share bars, related links, editor lines ...) and
link-heavy blocks are dropped. A page where nothing votes (a bare fragment) keeps all its non-link text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from pipeline.extract.blocks import HEADINGS, Block

MIN_WEIGHT = 25
SIBLING_SHARE = 0.2
SIBLING_PARAGRAPH_WEIGHT = 80
MAX_LINK_SHARE = 0.5
FURNITURE_VOTE = 0.1

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


def select(blocks: list[Block], parents: dict[int, int]) -> Selection:
    votes = _votes(blocks)
    if not votes:
        kept = [b for b in blocks if not b.furniture and link_share(b) <= MAX_LINK_SHARE]
        return Selection(kept, 0 if kept else len(blocks), len(blocks) - 1 if kept else -1, False)
    best = max(votes, key=votes.__getitem__)
    top = votes[best]
    parent = parents.get(best)
    containers = {best}
    if parent is not None:
        for node, vote in votes.items():
            if node != best and parents.get(node) == parent and vote >= top * SIBLING_SHARE:
                containers.add(node)
    kept: list[Block] = []
    first, last = len(blocks), -1
    for index, block in enumerate(blocks):
        inside = _inside(block, containers)
        if inside is None:
            if not _beside(block, parent, parents):
                continue
            inside = len(block.chain) - 1
        if any(node in block.furniture for node in block.chain[inside + 1 :]):
            continue
        if link_share(block) > MAX_LINK_SHARE:
            continue
        kept.append(block)
        first = min(first, index)
        last = index
    return Selection(kept, first, last, True)


def _inside(block: Block, containers: set[int]) -> int | None:
    """Position in the block's chain of the container it sits in, or None."""
    for position, node in enumerate(block.chain):
        if node in containers:
            return position
    return None


def _beside(block: Block, parent: int | None, parents: dict[int, int]) -> bool:
    """A prose paragraph that is a sibling of the container (the article continues after a figure or an ad)."""
    if parent is None or block.tag != "p" or block.furniture or len(block.chain) < 2:
        return False
    if parents.get(block.chain[-1]) != parent:
        return False
    return weight(" ".join(block.text.split())) >= SIBLING_PARAGRAPH_WEIGHT and link_share(block) < 0.25
