"""What a stage's handler returns for one batch: the messages to send on, and the dead letters.

Handlers do not send anything themselves; the stage runner emits an `Output` and waits for every
acknowledgement before the loop commits the offsets that fed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.emit import Emitter
from pipeline.workers.consume import Postponed
from schemas.models import Article, DeadLetter, FetchRequest, RawItem


@dataclass
class Output:
    raws: list[RawItem] = field(default_factory=list)
    articles: list[Article] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    retries: list[FetchRequest] = field(default_factory=list)  # to the fetch retry topic
    # Records not due yet, per (topic, partition): left uncommitted, their partition paused until due.
    postponed: Postponed = field(default_factory=Postponed)


def emit(output: Output, emitter: Emitter) -> None:
    """Queue every message of `output`, then wait until Kafka acknowledged all of them."""
    for raw in output.raws:
        emitter.raw(raw)
    for article in output.articles:
        emitter.article(article)
    for letter in output.dead:
        emitter.dead(letter)
    for request in output.retries:
        emitter.fetch(request, retry=True)
    emitter.flush()
