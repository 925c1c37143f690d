"""The field table of docs/index-contract.md, generated from the Article model and the index mapping.

Run `python -m schemas.contract` after changing either; a test fails when the committed document's
generated section (between the BEGIN and END comments) drifts from what this renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas.index_template import ARTICLE_MAPPING
from schemas.models import Article

DOC = Path(__file__).resolve().parents[1] / "docs" / "index-contract.md"
BEGIN = "<!-- BEGIN GENERATED: article fields (python -m schemas.contract) -->"
END = "<!-- END GENERATED: article fields -->"

# Meanings of the fields whose model declares no description. A description added to the model
# wins, and the test then asks for the entry here to be removed.
FALLBACK_MEANINGS: Mapping[str, str] = {
    "schema_version": "Version of this document schema; a breaking change bumps it.",
    "title": "Headline as plain text; the body's first sentence when the item has no usable title.",
    "outlet": "Display name of the outlet, e.g. 21世纪经济报道: the source's `outlets` mapping of the item's category, "
    "else the source's outlet, else the item's own (a post's author, a feed's <source>, an attribution), else the "
    "source id.",
    "category": "The source's category, else the item's own (a post's category path below its top level, "
    "e.g. 证券时报网/要闻; a feed entry's first <category>), else uncategorized.",
    "tags": "Editorial tags: the source's default tags, then the item's own tags (a feed's categories too), "
    "de-duplicated.",
    "keywords": "Up to 10 keywords extracted from the title and the start of the body, most relevant first.",
    "authors": "Author names as the source gives them.",
    "source_id": "Id of the source in the sources file.",
    "source_type": "Kind of source the article came from.",
    "fetched_at": "When the item was fetched, UTC.",
    "normalized_at": "When the normalize worker produced this document, UTC.",
    "pipeline_version": "Version of newsflow that produced the document.",
}


def meaning(name: str) -> str:
    description = Article.model_fields[name].description
    return description or FALLBACK_MEANINGS.get(name, "")


def _type(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """A short JSON type: `string`, `string (date-time) | null`, `array of string`, `"feed" | "jekyll"`."""
    if "$ref" in schema:
        return _type(defs[str(schema["$ref"]).rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return " | ".join(_type(option, defs) for option in schema["anyOf"])
    if "const" in schema:
        return f"{schema.get('type', 'value')} (always {schema['const']!r})"
    if "enum" in schema:
        return " | ".join(f'"{value}"' for value in schema["enum"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type(schema.get('items', {}), defs)}"
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _mapping(spec: Mapping[str, Any]) -> str:
    """The Elasticsearch mapping of one field: `text (cjk analyzer) + keyword subfield title.keyword`, …"""
    if "properties" in spec:  # an object: its fields, each as `.name` type
        inner = ", ".join(f"`.{name}`: {_mapping(sub)}" for name, sub in spec["properties"].items())
        return f"{spec.get('type', 'object')} ({inner})"
    parts = [str(spec["type"])]
    details = [f"{spec['analyzer']} analyzer"] if "analyzer" in spec else []
    details += [f"{key} {spec[key]}" for key in ("index_options", "ignore_above") if key in spec]
    if details:
        parts[0] += f" ({', '.join(details)})"
    parts += [f"`.{sub}`: {sub_spec['type']}" for sub, sub_spec in spec.get("fields", {}).items()]
    return " + ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def field_table() -> str:
    """The Markdown table of every document field, in model order."""
    schema = Article.model_json_schema()
    properties, defs = schema["properties"], schema.get("$defs", {})
    rows = [
        "| field | JSON type | Elasticsearch mapping | meaning |",
        "|---|---|---|---|",
    ]
    for name in Article.model_fields:
        rows.append(
            f"| `{name}` | {_cell(_type(properties[name], defs))} "
            f"| {_cell(_mapping(ARTICLE_MAPPING['properties'][name]))} | {_cell(meaning(name))} |"
        )
    return "\n".join(rows) + "\n"


def generated_section() -> str:
    return f"{BEGIN}\n{field_table()}{END}"


def current_section(document: str) -> str:
    """The generated section of a document as committed (BEGIN to END, inclusive)."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the document has no section between {BEGIN!r} and {END!r}")
    return document[start : end + len(END)]


def update(document: str) -> str:
    return document.replace(current_section(document), generated_section())


def main() -> None:
    DOC.write_text(update(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"updated the field table in {DOC}")


if __name__ == "__main__":
    main()
