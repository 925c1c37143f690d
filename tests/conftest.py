"""Shared fixtures. Service tests use the real local stack: the session starts it if needed
and stops, at the end, only what it started itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Settings
from tests.support.stacks import run_names

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "samples" / "posts" / "21shijijingjibaodao" / "000_c9e9ded42469b51d.txt"


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def stack_was_up(base_settings: Settings) -> bool:
    from pipeline.stack import manager

    return manager.all_up(base_settings)


@pytest.fixture(scope="session")
def stack(base_settings: Settings, stack_was_up: bool) -> Iterator[Settings]:
    """The local stack, up and healthy."""
    from pipeline.stack import manager

    manager.up(base_settings, report=lambda line: print(f"[stack] {line}"))
    yield base_settings
    if not stack_was_up:
        manager.down(base_settings, report=lambda line: print(f"[stack] {line}"))


@pytest.fixture
def isolated(stack: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Settings with topics, consumer groups, index and state of this test only (removed afterwards)."""
    settings = stack.model_copy(
        update={**run_names("t", fetch=True), "state_dir": tmp_path / "state", "topic_partitions": 3}
    )
    yield settings
    _remove(settings)


def _remove(settings: Settings) -> None:
    """Best-effort clean-up of a test's topics, groups and indices, so the shared stack stays tidy."""
    from pipeline import kafka, search

    try:
        with kafka.admin(settings) as admin:
            existing = set(admin.list_topics())
            doomed = [t for t in (*settings.topics, *settings.fetch_topics) if t in existing]
            if doomed:
                admin.delete_topics(doomed)
            ours = {settings.group_normalize, settings.group_index, settings.group_fetch}
            groups = [g for g in (str(g["group_id"]) for g in admin.list_groups()) if g in ours]
            if groups:
                admin.delete_groups(groups)
    except Exception:  # noqa: BLE001 - clean-up must never fail a test
        pass
    try:
        es = search.client(settings)
        names = list(es.options(ignore_status=404).indices.get(index=f"{settings.index_alias}-*"))
        if names:  # deleting by wildcard is refused (action.destructive_requires_name)
            es.indices.delete(index=",".join(names))
        es.options(ignore_status=404).indices.delete_index_template(name=f"{settings.index_alias}-template")
        es.options(ignore_status=404).indices.delete(index=settings.page_index)
    except Exception:  # noqa: BLE001
        pass
