from __future__ import annotations

import pytest

from schemas.export import OUT_DIR, documents, render


@pytest.mark.parametrize("name", sorted(documents()))
def test_committed_schema_matches_the_models(name: str) -> None:
    committed = (OUT_DIR / name).read_text(encoding="utf-8")
    assert committed == render(documents()[name]), f"{name} drifted: run `python -m schemas.export`"


def test_mapping_covers_every_article_field() -> None:
    from schemas.index_template import ARTICLE_MAPPING
    from schemas.models import Article

    assert set(ARTICLE_MAPPING["properties"]) == set(Article.model_fields)
