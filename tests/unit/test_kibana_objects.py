"""kibana/newsflow.ndjson: Kibana 8 saved objects that are self-consistent and use only mapped fields.

No Kibana runs here, so this checks what an import depends on: one JSON object per line, unique ids,
every reference (including those named inside Lens state, searchSourceJSON and panelsJSON) resolving
to an object of the file, and every field a view, search or chart reads existing in the index mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config import Settings
from schemas.index_template import ARTICLE_MAPPING

REPO = Path(__file__).resolve().parents[2]
NDJSON = REPO / "kibana" / "newsflow.ndjson"
TYPES = {"index-pattern", "search", "lens", "visualization", "dashboard"}
FIELD_KEYS = {"sourceField", "field", "fieldName", "timeFieldName", "timeField"}
RECORDS = "___records___"  # Lens' name for "count of documents", not a field
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*:")

Obj = dict[str, Any]


@cache
def _objects() -> tuple[Obj, ...]:
    lines = NDJSON.read_text(encoding="utf-8").splitlines()
    return tuple(json.loads(line) for line in lines)


def _by_type(kind: str) -> list[Obj]:
    return [o for o in _objects() if o["type"] == kind]


def _one(kind: str, object_id: str) -> Obj:
    (found,) = [o for o in _objects() if (o["type"], o["id"]) == (kind, object_id)]
    return found


def _decoded(value: Any, key: str = "") -> Any:
    """Attributes with their embedded JSON strings (searchSourceJSON, panelsJSON, visState, …) parsed."""
    if isinstance(value, str) and (key.endswith("JSON") or key in ("visState", "fields")):
        return _decoded(json.loads(value))
    if isinstance(value, dict):
        return {k: _decoded(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def _walk(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def _fields_used(obj: Obj) -> set[str]:
    attributes = _decoded(obj["attributes"])
    used = {str(v) for k, v in _walk(attributes) if k in FIELD_KEYS and isinstance(v, str)}
    for key, value in _walk(attributes):
        if key == "query" and isinstance(value, dict) and value.get("language") in ("kuery", "lucene"):
            used.update(KQL_FIELD.findall(str(value.get("query", ""))))
    if obj["type"] == "search":
        used.update(attributes.get("columns", []))
        used.update(field for field, _direction in attributes.get("sort", []))
    return used - {RECORDS}


def _mapped_fields() -> dict[str, str]:
    fields: dict[str, str] = {}
    for name, spec in ARTICLE_MAPPING["properties"].items():
        fields[name] = spec["type"]
        for sub, sub_spec in spec.get("fields", {}).items():
            fields[f"{name}.{sub}"] = sub_spec["type"]
    return fields


def _lens_layers(obj: Obj) -> dict[str, Any]:
    layers: dict[str, Any] = obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    return layers


def test_every_line_is_a_saved_object() -> None:
    raw = NDJSON.read_text(encoding="utf-8")
    assert raw.endswith("\n") and "\n\n" not in raw
    for obj in _objects():
        assert obj["type"] in TYPES, obj["type"]
        assert isinstance(obj["id"], str) and obj["id"]
        assert isinstance(obj["attributes"], dict) and obj["attributes"].get("title")
        assert all(set(ref) == {"name", "type", "id"} for ref in obj["references"]), obj["id"]
        assert obj["coreMigrationVersion"].startswith("8.") and obj["typeMigrationVersion"]
        _decoded(obj["attributes"])  # every embedded JSON string parses


def test_ids_are_unique() -> None:
    ids = [o["id"] for o in _objects()]
    assert len(ids) == len(set(ids))


def test_every_reference_resolves_to_an_object_of_the_file() -> None:
    present = {(o["type"], o["id"]) for o in _objects()}
    references = [(o["id"], ref) for o in _objects() for ref in o["references"]]
    assert len(references) >= 10
    for owner, ref in references:
        assert (ref["type"], ref["id"]) in present, f"{owner}: {ref} points outside the file"
    names = [(o["id"], ref["name"]) for o in _objects() for ref in o["references"]]
    assert len(names) == len(set(names)), "reference names repeat within an object"


def test_embedded_reference_names_are_declared() -> None:
    for obj in _objects():
        declared = {ref["name"]: ref for ref in obj["references"]}
        attributes = _decoded(obj["attributes"])
        for key, value in _walk(attributes):
            if key == "indexRefName":
                assert value in declared and declared[value]["type"] == "index-pattern", (obj["id"], value)
        if obj["type"] == "lens":
            for layer in _lens_layers(obj):
                assert f"indexpattern-datasource-layer-{layer}" in declared, (obj["id"], layer)
        if obj["type"] == "dashboard":
            for panel in attributes["panelsJSON"]:
                name = f"{panel['panelIndex']}:{panel['panelRefName']}"
                assert name in declared, (obj["id"], name)
                assert declared[name]["type"] == panel["type"]


def test_every_field_used_exists_in_the_index_mapping() -> None:
    mapped = _mapped_fields()
    used_anywhere: set[str] = set()
    for obj in _objects():
        used = _fields_used(obj)
        assert used <= set(mapped), f"{obj['id']} uses unmapped {sorted(used - set(mapped))}"
        used_anywhere |= used
    assert {"published_at", "outlet", "category", "title", "tags", "keywords", "language", "tickers"} <= used_anywhere


def test_lens_states_are_self_consistent() -> None:
    mapped = _mapped_fields()
    lenses = _by_type("lens")
    assert {o["attributes"]["visualizationType"] for o in lenses} <= {"lnsXY", "lnsPie", "lnsTagcloud", "lnsDatatable"}
    for obj in lenses:
        columns = {cid: col for layer in _lens_layers(obj).values() for cid, col in layer["columns"].items()}
        for layer in _lens_layers(obj).values():
            assert sorted(layer["columnOrder"]) == sorted(layer["columns"]), obj["id"]
        for column in columns.values():
            order_by = column.get("params", {}).get("orderBy", {})
            if order_by.get("type") == "column":
                assert order_by["columnId"] in columns, obj["id"]
            if column["operationType"] == "terms":
                assert mapped[column["sourceField"]] == "keyword", (obj["id"], column["sourceField"])
            if column["operationType"] == "date_histogram":
                assert mapped[column["sourceField"]] == "date", obj["id"]
        visualization = obj["attributes"]["state"]["visualization"]
        accessors = {
            v
            for k, v in _walk(visualization)
            if k in ("xAccessor", "splitAccessor", "tagAccessor", "valueAccessor") and isinstance(v, str)
        }
        accessors |= {
            item
            for k, v in _walk(visualization)
            if k in ("accessors", "primaryGroups", "metrics") and isinstance(v, list)
            for item in v
        }
        assert accessors and accessors <= set(columns), obj["id"]
        layer_ids = {v for k, v in _walk(visualization) if k == "layerId"}
        assert layer_ids == set(_lens_layers(obj)), obj["id"]


def test_data_view_reads_the_alias_by_publication_time() -> None:
    (view,) = _by_type("index-pattern")
    assert view["attributes"]["title"] == Settings().index_alias
    assert view["attributes"]["timeFieldName"] == "published_at"
    assert _mapped_fields()["published_at"] == "date"


def test_the_data_view_names_the_story_field() -> None:
    (view,) = _by_type("index-pattern")
    assert json.loads(view["attributes"]["fieldAttrs"])["story_id"]["customLabel"] == "Story"
    assert _mapped_fields()["story_id"] == "keyword"  # a facet: aggregatable


def test_latest_articles_search() -> None:
    (found,) = [o for o in _by_type("search") if o["attributes"]["title"] == "Latest articles"]
    assert found["attributes"]["columns"] == ["outlet", "category", "title", "tags", "tickers"]
    assert found["attributes"]["sort"] == [["published_at", "desc"]]


@pytest.mark.parametrize(
    ("lens_id", "vis_type", "fields"),
    [
        ("newsflow-articles-per-day", "lnsXY", {"published_at", "outlet"}),
        ("newsflow-top-tags", "lnsXY", {"tags"}),
        ("newsflow-top-keywords", "lnsTagcloud", {"keywords"}),
        ("newsflow-language-split", "lnsPie", {"language"}),
        ("newsflow-biggest-stories", "lnsXY", {"story_id", "outlet"}),
    ],
)
def test_dashboard_shows_each_chart(lens_id: str, vis_type: str, fields: set[str]) -> None:
    chart = _one("lens", lens_id)
    assert chart["attributes"]["visualizationType"] == vis_type
    assert _fields_used(chart) == fields
    (dashboard,) = _by_type("dashboard")
    assert {"type": "lens", "id": lens_id} in [{"type": r["type"], "id": r["id"]} for r in dashboard["references"]]


def test_dashboard_panels_fit_the_grid_without_overlap() -> None:
    (dashboard,) = _by_type("dashboard")
    panels = _decoded(dashboard["attributes"])["panelsJSON"]
    assert {p["type"] for p in panels} == {"lens", "search"}
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridData"]
        assert grid["i"] == panel["panelIndex"] and grid["x"] >= 0 and grid["x"] + grid["w"] <= 48
        xs, ys = range(grid["x"], grid["x"] + grid["w"]), range(grid["y"], grid["y"] + grid["h"])
        area = {(x, y) for x in xs for y in ys}
        assert not cells & area, panel["panelIndex"]
        cells |= area


def test_compose_imports_the_objects_once_kibana_is_healthy() -> None:
    services = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    setup = services["kibana-setup"]
    assert setup["depends_on"] == {"kibana": {"condition": "service_healthy"}}
    assert "./kibana:/kibana:ro" in setup["volumes"]
    assert setup["image"] == services["kibana"]["image"]
    assert setup.get("restart") == "no" and "ports" not in setup
    command = " ".join([*setup.get("entrypoint", []), *setup["command"]])
    assert "http://kibana:5601/api/saved_objects/_import?overwrite=true" in command
    assert "kbn-xsrf" in command and f"file=@/kibana/{NDJSON.name}" in command
    assert '"success":true' in command  # a partly failed import (HTTP 200) must fail the service
