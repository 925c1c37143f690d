"""Write the JSON Schemas and the index template that downstream apps read.

Run `python -m schemas.export` after changing a model; a test fails when the committed
files drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from schemas.index_template import index_template
from schemas.models import Article, DeadLetter, FetchRequest, RawItem

OUT_DIR = Path(__file__).parent / "json"
DEFAULT_ALIAS = "news-articles"


def documents() -> dict[str, dict[str, Any]]:
    return {
        "raw-item.schema.json": RawItem.model_json_schema(),
        "article.schema.json": Article.model_json_schema(),
        "dead-letter.schema.json": DeadLetter.model_json_schema(),
        "fetch-request.schema.json": FetchRequest.model_json_schema(),
        "index-template.json": index_template(DEFAULT_ALIAS),
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, document in documents().items():
        (OUT_DIR / name).write_text(render(document), encoding="utf-8")
        print(f"wrote {OUT_DIR / name}")


if __name__ == "__main__":
    main()
