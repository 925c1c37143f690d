"""docs/index-contract.md: its generated field table matches the model and the mapping."""

from __future__ import annotations

import pytest

from schemas import contract
from schemas.index_template import ARTICLE_MAPPING
from schemas.models import Article


def test_committed_field_table_matches_the_model() -> None:
    committed = contract.current_section(contract.DOC.read_text(encoding="utf-8"))
    assert committed == contract.generated_section(), "docs/index-contract.md drifted: run `python -m schemas.contract`"


def test_every_field_of_the_model_and_the_mapping_has_a_row_with_a_meaning() -> None:
    rows = [line for line in contract.field_table().splitlines()[2:]]
    names = [row.split("|")[1].strip().strip("`") for row in rows]
    assert names == list(Article.model_fields)
    assert set(names) == set(ARTICLE_MAPPING["properties"])
    assert all(row.rstrip().removesuffix("|").rsplit("|", 1)[1].strip() for row in rows)


def test_fallback_meanings_cover_exactly_the_undescribed_fields() -> None:
    undescribed = {name for name, field in Article.model_fields.items() if not field.description}
    assert set(contract.FALLBACK_MEANINGS) == undescribed, "a model description now exists: drop the fallback"


@pytest.mark.parametrize(
    ("name", "json_type", "mapping"),
    [
        ("title", "string", "text (cjk analyzer) + `.keyword`: keyword"),
        ("published_at", "string (date-time) \\| null", "date"),
        ("url", "string \\| null", "keyword (ignore_above 2048)"),
        ("tags", "array of string", "keyword"),
        ("source_type", '"feed" \\| "jekyll" \\| "git" \\| "sitemap"', "keyword"),
        ("schema_version", "integer (always 1)", "integer"),
        ("body_text", "string", "text (cjk analyzer, index_options offsets)"),
    ],
)
def test_rows_show_json_and_mapping_types(name: str, json_type: str, mapping: str) -> None:
    row = next(r for r in contract.field_table().splitlines() if r.startswith(f"| `{name}` |"))
    assert row.startswith(f"| `{name}` | {json_type} | {mapping} | ")


def test_update_replaces_only_the_generated_section() -> None:
    stale = f"# Title\n\nBefore.\n\n{contract.BEGIN}\n| old | table |\n{contract.END}\n\nAfter.\n"
    updated = contract.update(stale)
    assert updated.startswith("# Title\n\nBefore.\n\n") and updated.endswith("\n\nAfter.\n")
    assert contract.current_section(updated) == contract.generated_section()
    with pytest.raises(ValueError, match="no section"):
        contract.current_section("# nothing generated here\n")
