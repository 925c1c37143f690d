"""A Jekyll or Hexo post -> one RawItem.

A post is: YAML front matter between `---` lines (layout, title, date, categories, tags, author), a
Markdown body (HTML inside passes through; rendered by the normalizer, see `normalize.markdown`), a
line with the bare source link `<http://…>` (the item's URL: the canonical link of the story), and
site navigation links at the end (`[返回首页](//…)｜…`), which are dropped here.

Decisions:
- Bytes must be UTF-8 (a UTF-8 BOM is allowed), as Jekyll itself expects. Anything else is refused
  with the offset of the first bad byte: guessing a legacy encoding (GB18030 decodes almost any byte
  string "cleanly") would silently index mojibake.
- What real mirrors hold is accepted: blank lines (and a BOM) before the opening `---`, CRLF or CR
  line ends, a title that is empty (the normalizer then takes the body's first sentence), an empty
  source link line `<>` (no URL), a date that is empty, only a zone (`date:  +0800`) or unreadable
  (`Invalid Date`: kept as written, the normalizer drops it with a note). A post without a usable
  date takes the one in its file name (`2021-12-08-title.md`), as Jekyll does.
- Front matter is read with a safe loader that refuses aliases (no alias bombs), refuses every
  non-standard tag (`!!python/object` ...), and keeps dates as the text the author wrote.
- `categories`/`tags` (or `category`/`tag`) may be a list or a string; a string is split on
  whitespace, as Jekyll does; every entry is trimmed.
- The item's category: Jekyll and Hexo both read a list of categories as a path, broadest first
  (Hexo files `categories: [金融, 证券时报网, 要闻]` under 金融 › 证券时报网 › 要闻). The top level of such
  a path is the section a whole site files everything under (金融 on every post of a finance mirror),
  so it tells an editor nothing; the site and feed below it do. So the category of a list of two or
  more is the path below its top level joined with `/` (`证券时报网/要闻`); of one entry, or of a string
  (Jekyll's `categories: emnews`), the first entry. A source's own `category` overrides it.
- `author` (Hexo mirrors write the site's name there: `author: 证券时报网`) is the outlet the item
  names itself, and an author.
- A body is Markdown unless the file is `.html`/`.htm`, which Jekyll leaves as HTML.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any

import yaml

from pipeline.errors import ParseError
from pipeline.normalize.boilerplate import bare_link, is_navigation
from pipeline.normalize.dates import parse_datetime, source_zone
from pipeline.normalize.ids import fingerprint, item_id
from schemas.models import ContentFormat, RawItem, SourceInfo

MAX_FRONT_MATTER_CHARS = 64 * 1024
_OPENING = re.compile(r"---[ \t]*\r?\n")
_CLOSING = re.compile(r"^(?:---|\.\.\.)[ \t]*$\n?", re.MULTILINE)
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_LEADING = "\ufeff\r\n\t "
_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})-")
_HTML_SUFFIXES = (".html", ".htm")
_EMPTY_LINK = "<>"


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
    """(front matter, body), line ends made `\n`."""
    text = text.lstrip(_LEADING)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _OPENING.match(text) is None:
        raise ParseError(f"{path}: no front matter (a post starts with a '---' line, then YAML, then '---')")
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
    """A scalar as trimmed text; None for empty, booleans, null, lists and mappings."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    return None


def _words(value: Any) -> list[str]:
    """A Jekyll list field: a list of scalars, or a string split on whitespace; entries trimmed."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [text for item in value if (text := _text(item))]
    return []


def category_of(value: Any) -> str | None:
    """The item's category from its `categories` value (see the module docstring)."""
    if isinstance(value, list):
        path = _words(value)
        return "/".join(path[1:]) if len(path) > 1 else (path[0] if path else None)
    words = _words(value)
    return words[0] if words else None


def _published(meta: dict[str, Any], path: str, zone: tzinfo) -> str | None:
    """The date as written; the file name's date when the front matter has none that can be read."""
    written = _text(meta.get("date"))
    if written is not None and parse_datetime(written, default=zone) is not None:
        return written
    named = _FILE_DATE.match(path.replace("\\", "/").rsplit("/", 1)[-1])
    return named.group(1) if named else written


def _footer(body: str) -> tuple[str, str | None]:
    """(HTML body, source link) with the trailing source link line and navigation removed."""
    lines = body.rstrip().split("\n")
    url: str | None = None
    empty_link = False
    while lines:
        last = lines[-1].strip()
        if not last or is_navigation(last):
            lines.pop()
            continue
        if last == _EMPTY_LINK and url is None and not empty_link:
            empty_link = True  # the mirror had no link for this story
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
    language = _text(meta.get("lang")) or _text(meta.get("language")) or source.language
    zone = source_zone(source, language)
    published = _published(meta, path, zone)
    updated = _text(meta.get("last_modified_at")) or _text(meta.get("updated"))
    categories_value = meta.get("categories", meta.get("category"))
    categories = _words(categories_value)
    tags = _words(meta.get("tags", meta.get("tag")))
    author = _text(meta.get("author"))
    authors = _words(meta.get("authors")) or ([author] if author else [])
    identifier = item_id(
        url=url,
        base_url=None,
        guid=None,
        source_id=source.id,
        outlet=source.outlet or author or source.id,
        title=title,
        published=published,
        content=content,
        zone=zone,
    )
    if identifier is None:
        raise ParseError(f"{path}: nothing identifies the post (no source link, no title, no body)")
    fields = "\x1f".join(categories), "\x1f".join(tags), author
    return RawItem(
        item_id=identifier,
        source=source,
        fetched_at=fetched_at,
        url=url,
        title=title,
        published=published,
        updated=updated,
        content_html=content or None,
        content_format=ContentFormat.HTML if path.lower().endswith(_HTML_SUFFIXES) else ContentFormat.MARKDOWN,
        tags=tags,
        categories=categories,
        category=category_of(categories_value),
        outlet=author,
        authors=authors,
        language=language,
        content_hash=fingerprint(title, url, published, updated, content, *fields),
        path=path,
    )
