"""Robustness of story grouping on synthetic copies of the real posts, generated here at test time.

Every post of ../shared/data that the parser accepts is copied in four ways a reprint differs from its
original (punctuation and line breaks changed; a credit line added; a new headline prefix; its last
sentence cut), and the originals and copies are assigned together, in a shuffled order, by the pure part
of the real method (fingerprints, in-batch LSH candidates, verification). Each copy must land in its
original's story; none may land in the story of a post the labels call a different story.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

import pytest

from pipeline.stories.assign import first_pass
from pipeline.stories.evaluation import read_corpus
from pipeline.stories.grouping import article_fingerprints
from pipeline.stories.labels import Labels
from schemas.models import Article

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "data"
LABELS = Path(__file__).resolve().parents[1] / "fixtures" / "stories" / "labels.json"
WEEK = timedelta(days=7)
_HALF_WIDTH = str.maketrans({"，": ",", "。": ".", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?"})
_SENTENCE = re.compile(r"(?<=[。！？])")


def _variants(article: Article, rng: random.Random) -> dict[str, Article]:
    body, title = article.body_text, article.title
    sentences = [s for s in _SENTENCE.split(body) if s]
    changed = {
        "reformatted": (title.translate(_HALF_WIDTH), body.translate(_HALF_WIDTH).replace("\n", "\n\n")),
        "credited": (title, f"{body}（来源：{rng.choice(['证券时报网', '财联社', '中国基金报', '界面新闻'])}）"),
        "retitled": (f"{rng.choice(['快讯', '最新', '要闻'])}｜{title}", body),
    }
    if len(sentences) >= 3:
        changed["cut"] = (title, "".join(sentences[:-1]))
    return {
        kind: article.model_copy(update={"id": f"{article.id}-{kind}", "title": t, "body_text": b})
        for kind, (t, b) in changed.items()
    }


@pytest.fixture(scope="module")
def corpus() -> dict[str, Article]:
    assert CORPUS.is_dir(), f"the real posts are missing: expected them in {CORPUS}"
    return {post.name: post.article for post in read_corpus(CORPUS) if post.article is not None}


def test_copies_of_real_posts_join_their_original_and_nothing_else(corpus: dict[str, Article]) -> None:
    labels = Labels.read(LABELS)
    rng = random.Random(11)
    originals = {article.id: name for name, article in corpus.items() if len(article.body_text) >= 20}
    copies: dict[str, str] = {}  # copy id -> original file
    articles = [corpus[name] for name in originals.values()]
    for name in originals.values():
        for copy in _variants(corpus[name], rng).values():
            copies[copy.id] = name
            articles.append(copy)
    rng.shuffle(articles)
    decisions = first_pass(article_fingerprints(articles), {}, {}, WEEK)
    members: dict[str, set[str]] = {}
    for article in articles:
        name = originals.get(article.id) or copies[article.id]
        members.setdefault(decisions[article.id].story_id, set()).add(name)
    original_id = {name: article_id for article_id, name in originals.items()}
    found = sum(
        1 for copy_id, name in copies.items() if decisions[copy_id].story_id == decisions[original_id[name]].story_id
    )
    related = labels.events | labels.uncertain
    wrong = [(a, b) for names in members.values() for a in names for b in names if a < b and (a, b) not in related]
    recall = found / len(copies)
    print(f"\nsynthetic copies: {len(copies)} of {len(originals)} posts; with their original: {recall:.3f}")
    assert len(copies) >= 400
    assert recall >= 0.95
    assert wrong == []
