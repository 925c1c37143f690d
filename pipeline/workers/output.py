"""What a stage's handler returns for one batch: the messages to send on, and the dead letters.

Handlers do not send anything themselves; the stage runner emits an `Output` and waits for every
acknowledgement before the loop commits the offsets that fed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.emit import Emitter
from schemas.models import Article, DeadLetter, RawItem


@dataclass
class Output:
    raws: list[RawItem] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)

    def extend(self, other: Output) -> None:
        self.raws.extend(other.raws)
        self.articles.extend(other.articles)
        self.dead.extend(other.dead)


def emit(output: Output, emitter: Emitter) -> None:
    """Queue every message of `output`, then wait until Kafka acknowledged all of them."""
    for raw in output.raws:
        emitter.raw(raw)
    for article in output.articles:
        emitter.article(article)
    for letter in output.dead:
        emitter.dead(letter)
    emitter.flush()
