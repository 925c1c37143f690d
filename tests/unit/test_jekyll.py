from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from pipeline.errors import ParseError
from pipeline.normalize.ids import id_from_url, make_id
from pipeline.sources import jekyll
from schemas.models import ContentFormat, RawItem, SourceInfo
from tests.unit.conftest import FETCHED_AT, POSTS, SEED_CATEGORY, SEED_OUTLET, SEED_TAG, SEED_TITLE, SEED_URL


def parse_post(name: str, source: SourceInfo, **kwargs: int) -> RawItem:
    path = POSTS / name
    return jekyll.parse(path.read_bytes(), source, path=str(path), fetched_at=FETCHED_AT, **kwargs)


@pytest.fixture(scope="module")
def seed_item(jekyll_source: SourceInfo) -> RawItem:
    return parse_post("seed.txt", jekyll_source)


def test_seed_front_matter(seed_item: RawItem) -> None:
    assert seed_item.title == SEED_TITLE
    assert seed_item.published == "2022-05-05 21:38:33 +0800"  # as written, not reinterpreted by YAML
    assert seed_item.tags == [SEED_TAG]
    assert seed_item.categories == [SEED_CATEGORY]
    assert seed_item.category == SEED_CATEGORY
    assert seed_item.content_format is ContentFormat.MARKDOWN
    assert seed_item.outlet is None  # no `author`: the outlet is the source's


def test_seed_source_link_is_the_url_and_the_id(seed_item: RawItem) -> None:
    assert seed_item.url == SEED_URL
    assert seed_item.item_id == id_from_url(SEED_URL)
    assert seed_item.guid is None and seed_item.base_url is None


def test_seed_body_is_the_html_without_footer(seed_item: RawItem, seed_bytes: bytes) -> None:
    body = seed_item.content_html or ""
    source = seed_bytes.decode("utf-8")
    first_p = source.index("<p>")
    last_p_end = source.rindex("</p>") + len("</p>")
    assert body == source[first_p:last_p_end]
    assert "返回首页" not in body and "<http" not in body
    assert body.endswith('<p class="em_media">（文章来源：21世纪经济报道）</p>')


def test_seed_metadata(seed_item: RawItem, jekyll_source: SourceInfo) -> None:
    assert seed_item.source == jekyll_source
    assert seed_item.language == "zh"
    assert seed_item.path is not None and seed_item.path.endswith("seed.txt")
    assert seed_item.fetched_at == FETCHED_AT
    assert re.fullmatch(r"[0-9a-f]{64}", seed_item.content_hash)


def test_list_fields_and_navigation(jekyll_source: SourceInfo) -> None:
    item = parse_post("list_fields.md", jekyll_source)
    assert item.title == "Markets close higher"
    assert item.published == "2022-05-06"
    assert item.tags == ["stocks", "bonds"]
    assert item.categories == ["markets", "economy"]
    assert item.category == "economy"  # a list is a path: the levels below its top one
    assert item.authors == ["Lee Wen"]
    assert item.outlet == "Lee Wen"
    assert item.language == "en"
    assert item.url == "https://markets.example/2022/05/06/close.html?utm_campaign=daily#top"
    assert item.item_id == id_from_url("https://markets.example/2022/05/06/close.html")
    assert item.content_html == (
        "<p>Stocks and bonds rose together on Friday as investors bet that inflation has peaked.</p>\n"
        "<p>Traders said volumes were light.</p>"
    )


def test_post_without_source_link_is_identified_by_title_and_date(jekyll_source: SourceInfo) -> None:
    item = parse_post("no_source_link.md", jekyll_source)
    assert item.url is None
    assert item.item_id == make_id("title", jekyll_source.outlet, "没有来源链接的文章", "2022-05-05T02:00:00Z")
    assert item.content_html == "<p>这篇文章在正文之后没有裸链接行。</p>"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("no_front_matter.md", "no front matter"),
        ("unclosed_front_matter.md", "no closing '---' line"),
        ("unsafe_yaml_tag.md", "unsupported YAML tag.*python/object/apply"),
        ("alias_bomb.md", r"YAML aliases \(\*name\) are not allowed"),
        ("invalid_yaml.md", "not valid YAML at line"),
        ("binary.bin", "binary file"),
        ("gbk_encoded.md", r"not UTF-8 \(byte 0x[0-9a-f]{2} at offset \d+ is invalid\)"),
    ],
)
def test_bad_posts(name: str, message: str, jekyll_source: SourceInfo) -> None:
    with pytest.raises(ParseError, match=message) as caught:
        parse_post(name, jekyll_source)
    assert name in str(caught.value)  # the message names the file


def test_unsafe_tag_runs_nothing(jekyll_source: SourceInfo) -> None:
    marker = Path("/tmp/newsflow-pwned")
    marker.unlink(missing_ok=True)
    with pytest.raises(ParseError):
        parse_post("unsafe_yaml_tag.md", jekyll_source)
    assert not marker.exists()


def test_post_over_the_size_limit(jekyll_source: SourceInfo) -> None:
    with pytest.raises(ParseError, match="over the limit of 1024 bytes"):
        parse_post("seed.txt", jekyll_source, max_bytes=1024)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"---\n- a\n- b\n---\n<p>x</p>", "not a mapping"),
        (b"---\ntitle: " + b"[" * 3000 + b"]" * 3000 + b"\n---\n<p>x</p>", "nests too deeply|not valid YAML"),
        ("---\ntitle: x\n---\n".encode("utf-16"), "UTF-16"),
        (b"---\ntitle: !foo bar\n---\n<p>x</p>", "unsupported YAML tag"),
        (b"---\n---\n", "nothing identifies the post"),
        (b"\n\nno front matter here\n", "no front matter"),
    ],
)
def test_bad_bytes(data: bytes, message: str, jekyll_source: SourceInfo) -> None:
    with pytest.raises(ParseError, match=message):
        jekyll.parse(data, jekyll_source, path="post.md", fetched_at=FETCHED_AT)


@pytest.mark.parametrize(
    ("front", "categories", "category", "tags"),
    [
        ("categories: a b\ntags: c", ["a", "b"], "a", ["c"]),
        ("categories: [a, b]\ntags: [c, 2022]", ["a", "b"], "b", ["c", "2022"]),
        ("category: a\ntag: b", ["a"], "a", ["b"]),
        ("tags: []", [], None, []),
        ("categories:\n  - 财经\n  - 新闻\ntags: 跨境电商", ["财经", "新闻"], "新闻", ["跨境电商"]),
        ("categories: \n - 金融\n - 证券时报网 \n - 要闻\n", ["金融", "证券时报网", "要闻"], "证券时报网/要闻", []),
        ("categories: [WEEX 华尔街见闻, ' 资讯 ']", ["WEEX 华尔街见闻", "资讯"], "资讯", []),
        ("categories: [emnews]", ["emnews"], "emnews", []),
        ("categories: {a: 1}", [], None, []),
    ],
)
def test_categories_and_tags(
    front: str, categories: list[str], category: str | None, tags: list[str], jekyll_source: SourceInfo
) -> None:
    data = f"---\ntitle: t\n{front}\n---\n<p>x</p>\n".encode()
    item = jekyll.parse(data, jekyll_source, path="p.md", fetched_at=FETCHED_AT)
    assert (item.categories, item.category, item.tags) == (categories, category, tags)


@pytest.mark.parametrize(
    ("data", "title", "published"),
    [
        (b"\xef\xbb\xbf---\ntitle: BOM\ndate: 2022-05-05\n---\n<p>x</p>", "BOM", "2022-05-05"),
        (b"---\r\ntitle: CRLF\r\ndate: 2022-05-05 21:38:33\r\n---\r\n<p>x</p>\r\n", "CRLF", "2022-05-05 21:38:33"),
        (b"---\ntitle: 2022\ndate: 2022-05-05T13:38:33Z\n...\n<p>x</p>", "2022", "2022-05-05T13:38:33Z"),
        (b"\n\n---\ntitle: blank lines first\ndate: 2022-05-05\n---\n<p>x</p>", "blank lines first", "2022-05-05"),
        (
            b"\n\xef\xbb\xbf---\ntitle: ' padded '\ndate: Fri, 16 Sep 2022 08:34:00 GMT\n---\n<p>x</p>",
            "padded",
            "Fri, 16 Sep 2022 08:34:00 GMT",
        ),
        (b"---\rtitle: CR only\rdate: 2022-05-05\r---\r<p>x</p>", "CR only", "2022-05-05"),
    ],
)
def test_front_matter_variants(data: bytes, title: str, published: str, jekyll_source: SourceInfo) -> None:
    item = jekyll.parse(data, jekyll_source, path="p.md", fetched_at=FETCHED_AT)
    assert (item.title, item.published, item.content_html) == (title, published, "<p>x</p>")


@pytest.mark.parametrize(
    ("name", "front", "published"),
    [
        # unreadable or empty dates stay as written (the normalizer drops them with a note) ...
        ("p.md", "date: Invalid Date", "Invalid Date"),
        ("p.md", "date:  +0800", "+0800"),
        ("p.md", "date: ''", None),
        # ... unless the file name has the date, which Jekyll then uses
        ("_posts/2021-12-08-story.md", "date: Invalid Date", "2021-12-08"),
        ("_posts/2021-12-08-story.md", "title: x", "2021-12-08"),
        ("_posts/2021-12-08-story.md", "date: 2021-12-09 10:00:00", "2021-12-09 10:00:00"),
    ],
)
def test_dates_as_mirrors_write_them(name: str, front: str, published: str | None, jekyll_source: SourceInfo) -> None:
    data = f"---\ntitle: t\n{front}\n---\nbody\n".encode()
    assert jekyll.parse(data, jekyll_source, path=name, fetched_at=FETCHED_AT).published == published


def test_empty_title_empty_link_and_digest(jekyll_source: SourceInfo) -> None:
    data = (
        b'---\ntitle: ""\ndate:  +0800\ncategories: emnews\n---\n> \xe6\x91\x98\xe8\xa6\x81\n\n<p>body</p>\n\n<>\n\n'
        b"[\xe8\xbf\x94\xe5\x9b\x9e\xe9\xa6\x96\xe9\xa1\xb5](//finews.example/)\n"
    )
    item = jekyll.parse(data, jekyll_source, path="-202205262391921712.md", fetched_at=FETCHED_AT)
    assert item.title is None and item.url is None
    assert item.content_html == "> 摘要\n\n<p>body</p>"  # the Markdown as written; `<>` and navigation gone
    assert item.item_id == make_id("text", SEED_OUTLET, "", hashlib.sha256(item.content_html.encode()).hexdigest())


def test_hexo_author_is_the_outlet_it_names(jekyll_source: SourceInfo) -> None:
    data = (
        "\n---\ntitle: '标题'\ncategories: \n - 金融\n - 证券时报网\n - 快讯\nauthor: 证券时报网\n---\n\n<div>x</div>\n"
    )
    item = jekyll.parse(data.encode(), jekyll_source, path="标题.md", fetched_at=FETCHED_AT)
    assert (item.outlet, item.authors, item.category) == ("证券时报网", ["证券时报网"], "证券时报网/快讯")


@pytest.mark.parametrize(("name", "format_"), [("a.md", "markdown"), ("a.markdown", "markdown"), ("a.html", "html")])
def test_body_format_follows_the_file_type(name: str, format_: str, jekyll_source: SourceInfo) -> None:
    item = jekyll.parse(b"---\ntitle: t\n---\n<p>x</p>", jekyll_source, path=name, fetched_at=FETCHED_AT)
    assert item.content_format == format_
