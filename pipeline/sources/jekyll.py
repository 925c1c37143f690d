"""A Jekyll-style post -> one RawItem.

A post is: YAML front matter between `---` lines (layout, title, date, categories, tags), an HTML
body, a line with the bare source link `<http://…>` (the item's URL: the canonical link of the
story), and site navigation links at the end (`[返回首页](//…)｜…`), which are dropped here.

Decisions:
- Bytes must be UTF-8 (a UTF-8 BOM is allowed), as Jekyll itself expects. Anything else is refused
  with the offset of the first bad byte: guessing a legacy encoding (GB18030 decodes almost any byte
  string "cleanly") would silently index mojibake.
- Front matter is read with a safe loader that refuses aliases (no alias bombs), refuses every
  non-standard tag (`!!python/object` ...), and keeps dates as the text the author wrote.
- `categories`/`tags` (or `category`/`tag`) may be a list or a string; a string is split on
  whitespace, as Jekyll does. Categories come before tags in `RawItem.tags`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import yaml

from pipeline.errors import ParseError
from pipeline.normalize.boilerplate import bare_link, is_navigation
from pipeline.normalize.dates import default_zone
from pipeline.normalize.ids import fingerprint, item_id
from schemas.models import RawItem, SourceInfo

MAX_FRONT_MATTER_CHARS = 64 * 1024
_OPENING = re.compile(r"---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$\n?", re.MULTILINE)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _AliasRefused(yaml.YAMLError):
    pass


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and leaves timestamps as strings."""

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
            line = event.start_mark.line + 1 if event.start_mark else "?"
            raise _AliasRefused(f"YAML aliases (*name) are not allowed in front matter (line {line})")
        return super().compose_node(parent, index)


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _decode(data: bytes, path: str, max_bytes: int) -> str:
    if len(data) > max_bytes:
        raise ParseError(f"{path}: {len(data)} bytes, over the limit of {max_bytes} bytes for a post")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ParseError(f"{path}: UTF-16 text is not supported: save the post as UTF-8")
    if b"\x00" in data:
        raise ParseError(f"{path}: binary file (it contains NUL bytes), not a post")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ParseError(
            f"{path}: not UTF-8 (byte 0x{bad:02x} at offset {exc.start} is invalid); save the post as UTF-8"
        ) from None


def _split(text: str, path: str) -> tuple[str, str]:
    """(front matter, body)."""
    opening = _OPENING.match(text)
    if opening is None:
        raise ParseError(f"{path}: no front matter (a post starts with a '---' line, then YAML, then '---')")
    text = text.replace("\r\n", "\n")
    start = text.index("\n") + 1
    closing = _CLOSING.search(text, start, start + MAX_FRONT_MATTER_CHARS + 5)
    if closing is None:
        raise ParseError(
            f"{path}: front matter has no closing '---' line (looked in the first {MAX_FRONT_MATTER_CHARS} characters)"
        )
    return text[start : closing.start()], text[closing.end() :]


def _front_matter(front: str, path: str) -> dict[str, Any]:
    try:
        meta = yaml.load(front, Loader=_FrontMatterLoader)  # a SafeLoader subclass
    except _AliasRefused as exc:
        raise ParseError(f"{path}: {exc}") from None
    except yaml.constructor.ConstructorError as exc:
        raise ParseError(f"{path}: front matter uses an unsupported YAML tag: {exc.problem}") from None
    except yaml.MarkedYAMLError as exc:
        where = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise ParseError(f"{path}: front matter is not valid YAML{where}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise ParseError(f"{path}: front matter is not valid YAML: {exc}") from None
    except RecursionError:
        raise ParseError(f"{path}: front matter nests too deeply") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise ParseError(f"{path}: front matter is not a mapping of keys to values")
    return meta


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _words(value: Any) -> list[str]:
    """A Jekyll list field: a list of scalars, or a string split on whitespace."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [text for item in value if (text := _text(item))]
    return []


def _footer(body: str) -> tuple[str, str | None]:
    """(HTML body, source link) with the trailing source link line and navigation removed."""
    lines = body.rstrip().split("\n")
    url: str | None = None
    while lines:
        last = lines[-1].strip()
        if not last or is_navigation(last):
            lines.pop()
            continue
        link = bare_link(last) if url is None and last.startswith("<") else None
        if link is None:
            break
        url = link
        lines.pop()
    return "\n".join(lines).strip(), url


def parse(
    data: bytes,
    source: SourceInfo,
    *,
    path: str,
    fetched_at: datetime,
    max_bytes: int = 2 * 1024 * 1024,
) -> RawItem:
    """The RawItem of one post; raises ParseError saying what is wrong with the file."""
    front, body = _split(_decode(data, path, max_bytes), path)
    meta = _front_matter(front, path)
    content, url = _footer(body)
    title = _text(meta.get("title"))
    published = _text(meta.get("date"))
    updated = _text(meta.get("last_modified_at")) or _text(meta.get("updated"))
    tags = _words(meta.get("categories", meta.get("category"))) + _words(meta.get("tags", meta.get("tag")))
    authors = _words(meta.get("authors")) or [a for a in [_text(meta.get("author"))] if a]
    language = _text(meta.get("lang")) or _text(meta.get("language")) or source.language
    identifier = item_id(
        url=url,
        base_url=None,
        guid=None,
        source_id=source.id,
        outlet=source.outlet,
        title=title,
        published=published,
        content=content,
        zone=default_zone(language),
    )
    if identifier is None:
        raise ParseError(f"{path}: nothing identifies the post (no source link, no title, no body)")
    return RawItem(
        item_id=identifier,
        source=source,
        fetched_at=fetched_at,
        url=url,
        title=title,
        published=published,
        updated=updated,
        content_html=content or None,
        tags=tags,
        authors=authors,
        language=language,
        content_hash=fingerprint(title, url, published, updated, content, "\x1f".join(tags)),
        path=path,
    )
