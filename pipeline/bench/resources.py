"""The bench's own topics, consumer groups and indices: uniquely named per run, removed afterwards.

Every name starts with `nfbench<run>` (run: 8 random hex digits), so a bench never touches the
pipeline's own `news.*` topics or `news-articles` alias, and two benches never collide.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from kafka.errors import KafkaError

from pipeline import kafka, search
from pipeline.config import Settings
from pipeline.errors import NewsflowError

log = logging.getLogger(__name__)

BENCH_PARTITIONS = 6  # enough for two workers per stage to share a topic evenly


@dataclass
class Scratch:
    """Settings for each stage of one bench run, and a record of what they created."""

    base: Settings
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    topics: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"nfbench{self.run}"

    def settings(self, stage: str, *, raw_topic: str | None = None) -> Settings:
        """Settings whose topics, groups and alias belong to `stage` of this run (the raw topic may be shared)."""
        p = f"{self.prefix}.{stage}"
        settings = self.base.model_copy(
            update={
                "topic_raw": raw_topic or f"{p}.raw",
                "topic_articles": f"{p}.articles",
                "topic_deadletter": f"{p}.deadletter",
                "group_normalize": f"{p}-normalize",
                "group_index": f"{p}-index",
                "index_alias": f"{self.prefix}-{stage}-articles",
                "index_version": 1,
                "topic_partitions": BENCH_PARTITIONS,
            }
        )
        for topic in settings.topics:
            if topic not in self.topics:
                self.topics.append(topic)
        self.groups += [settings.group_normalize, settings.group_index]
        self.aliases.append(settings.index_alias)
        return settings

    def cleanup(self) -> list[str]:
        """Delete every topic, group, index and template of this run; what could not be deleted."""
        problems: list[str] = []
        try:
            with kafka.admin(self.base, timeout_ms=30_000) as admin:
                existing = set(admin.list_topics())
                doomed = [t for t in self.topics if t in existing]
                if doomed:
                    admin.delete_topics(doomed, timeout_ms=30_000, raise_errors=False)
                groups = {str(g["group_id"]) for g in admin.list_groups()} if self.groups else set()
                gone = [g for g in dict.fromkeys(self.groups) if g in groups]
                if gone:
                    admin.delete_groups(gone)
        except (KafkaError, NewsflowError, OSError) as exc:
            problems.append(f"Kafka cleanup of {self.prefix}.*: {exc}")
        es = search.client(self.base, timeout_s=60.0)
        try:
            for alias in dict.fromkeys(self.aliases):
                es.options(ignore_status=404).indices.delete(index=f"{alias}-v1")
                for stories in (f"{alias}-story-records", f"{alias}-stories"):  # the normalizers' story grouping
                    es.options(ignore_status=404).indices.delete(index=stories)
                es.options(ignore_status=404).indices.delete_index_template(name=f"{alias}-template")
        except Exception as exc:  # noqa: BLE001 - report and go on: cleanup must not hide the figures
            problems.append(f"Elasticsearch cleanup of {self.prefix}-*: {exc}")
        finally:
            es.close()
        return problems
