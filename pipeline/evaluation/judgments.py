"""A judgment file: queries an editor types, and the documents a reader judged relevant to each.

JSON, validated as a whole with one message naming the query and field at fault:

    {
      "corpus": "corpus-sources.yaml",           # sources file of the judged corpus, relative to this file
      "queries": [
        {"id": "sse-abbreviation", "query": "上交所", "kind": "abbreviation",
         "relevant": {"rsshub-page/关于修订….md": 2, "finews/2021-12-08-….md": 1},
         "filters": {"from": "2021-01-01"},       # optional: any filter of the read API
         "note": "why these documents"}
      ]
    }

Documents are named by their corpus path (`<source folder>/<file>`), stable across pipeline versions;
the evaluation maps them to article ids at run time. Grades: 2 = about it, 1 = mentions it.
Queries of the kinds in `MUST_FIND` name a thing by another of its names (an abbreviation, an alias,
a ticker in some form): the harness reports whether each of them finds every story it names.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from pipeline.errors import ConfigError


class Kind(StrEnum):
    COMPANY = "company"
    PERSON = "person"
    TICKER = "ticker"
    POLICY = "policy"
    TOPIC = "topic"
    ENGLISH = "english"
    MIXED = "mixed"
    ABBREVIATION = "abbreviation"
    ALIAS = "alias"
    PARAPHRASE = "paraphrase"


MUST_FIND = frozenset({Kind.TICKER, Kind.ABBREVIATION, Kind.ALIAS})

DocName = Annotated[str, StringConstraints(min_length=3, pattern=r"^[^/]+/.+")]


class Judgment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    kind: Kind
    relevant: dict[DocName, Annotated[int, Field(ge=1, le=2)]] = Field(min_length=1)
    filters: dict[str, str | list[str]] = Field(default_factory=dict)
    note: str = ""

    @property
    def must_find(self) -> bool:
        return self.kind in MUST_FIND


class JudgmentSet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    corpus: str = Field(description="Sources file of the corpus, relative to the judgment file.")
    queries: list[Judgment] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for judgment in self.queries:
            if judgment.id in seen:
                raise ValueError(f"query id {judgment.id!r} is used twice")
            seen.add(judgment.id)
        return self


def parse_judgments(text: str, origin: str = "judgment file") -> JudgmentSet:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{origin}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    try:
        return JudgmentSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        if first["loc"][:1] == ("queries",) and len(first["loc"]) > 1 and isinstance(data, dict):
            position = first["loc"][1]
            queries = data.get("queries")
            if isinstance(position, int) and isinstance(queries, list) and isinstance(queries[position], dict):
                where += f" (query {queries[position].get('id', '?')!r})"
        raise ConfigError(f"{origin}: {where}: {first['msg']}") from None


def load_judgments(path: Path) -> tuple[JudgmentSet, Path]:
    """The judgment set of `path` and the absolute path of its corpus sources file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read judgment file {path}: {exc.strerror}") from None
    judged = parse_judgments(text, origin=str(path))
    return judged, (path.resolve().parent / judged.corpus).resolve()
