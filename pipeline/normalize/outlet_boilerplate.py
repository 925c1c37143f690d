"""What Chinese outlets put around a story, taken out of its paragraphs and kept where useful.

Read from the templates of the outlets that finance mirrors carry (新浪财经, 每经网/每日经济新闻, 证券时报网,
中证网, 财联社, 格隆汇, 东方财富 wire copy, 新华社-style datelines), on clean text paragraphs:

- Lead-ins of the first paragraph: a bracketed headline that repeats the title (`【10余省水泥价格上涨】`,
  `[标题：#话题#]`), datelines and credits (`财联社8月29日电，`, `财联社7月4日讯（编辑潇湘）`,
  `财联社（深圳，记者成孟琦）讯，`, `中证网讯（记者欧阳剑环）`, `证券时报网讯，`, `证券时报e公司讯，`,
  `每经AI快讯：`, `新华社北京5月5日电（记者 X）`): removed; reporters become authors, editors the editor.
- Head lines: the title repeated as the first paragraph, a bare or credited dateline
  (`每日经济新闻 2021-10-19 21:45:40`: kept as `dateline`, a publication time for posts without a
  date), bylines (`每经记者 郭荣村 每经编辑 文多`, `中国基金报记者王建蔷`, `►文观察者网周远方`),
  `原标题：…` (kept as `original_title`), a `◎` abstract (kept as `digest`).
- Anywhere: image credits (`图片来源：…`, `封面图片来源：摄图网`), the 新浪财经 app line
  (`海量资讯、精准解读，尽在新浪财经APP`), `责任编辑：王蒙 SF055` (kept as `editor`).
- Tail: disclaimers (`免责声明：…`, `（每经App登载此文…）`, `注：…不构成投资建议…`) and the site's column
  label and keyword list after them, `编辑|`/`校对|` lines, `(记者胡玲)`, `每日经济新闻综合…` (kept as the
  attribution), reader prompts (`…请点击↓↓`), and a source credit in brackets that ends the last
  paragraph (`…新高。(央视新闻)`: kept as the attribution `来源：央视新闻`; `（记者安蓓）`: an author).
- Runs of the same paragraph (a table caption printed twice) are kept once.

Only the first `HEAD` and last `TAIL` paragraphs are examined for head and tail lines, so the cost
does not grow with the article; patterns are anchored and start with literal text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

HEAD = 5
TAIL = 8
MAX_CREDIT_CHARS = 60  # a credit or label line is short; a paragraph of text is not one

_NAME = r"[\u4e00-\u9fff·]{2,4}"
_ROLES = r"见习记者|实习记者|首席记者|记者|实习编辑|编辑|实习生"
# A name ends where the text, a separator or the next credit begins (`张勤峰见习记者连润`, `郭荣村每经实习记者`).
_ROLE_NAMES = re.compile(
    rf"(?P<role>{_ROLES})\s*(?P<name>[\u4e00-\u9fff·]{{2,4}}?)(?=$|[\s、，,;；）)]|见习|实习|首席|{_ROLES}|每经|通讯员)"
)

_IMAGE_CREDIT = re.compile(r"(?:封面)?(?:图片|图像|题图|配图)?(?:来源|来自|图源)[：:]\s*\S.{0,40}|图[／/]\S.{0,30}")
_IMAGE_CREDIT_START = ("封面图片来源", "图片来源", "图源", "题图来源", "配图来源", "图/", "图／")
_APP_PROMOS = ("海量资讯、精准解读，尽在新浪财经APP",)
_EDITOR = re.compile(r"(?:责任编辑|责编)\s*[：:]\s*(?P<name>[^\s\d]{2,12})(?:\s+[A-Z]{0,4}\d+)?")
_ORIGINAL_TITLE = re.compile(r"原标题\s*[：:]\s*(?P<title>\S.{0,200})")
_DATELINE = re.compile(r"(?:每日经济新闻\s*)?(?P<when>\d{4}-\d{2}-\d{2}\s+\d{2}:\d{2}(?::\d{2})?)")
_BYLINE_NBD = re.compile(rf"(?:每经(?:实习|见习)?(?:记者|编辑)\s*{_NAME}\s*)+")
_BYLINE_ORG = re.compile(rf"(?P<org>[\u4e00-\u9fffA-Za-z]{{2,10}}?)(?:首席|资深|实习|见习)?记者\s*(?P<name>{_NAME})")
_BYLINE_WEN = re.compile(r"[►▶]?\s*文\s*[／/丨|｜]?\s*(?P<who>[\u4e00-\u9fff·]{2,12})")
_DIGEST_MARK = "◎"

_HEADLINE = re.compile(r"【(?P<headline>[^】]{1,150})】|\[(?P<square>[^\]]{1,300})\]")
_LEAD_IN = re.compile(
    r"""
    (?:
        财联社 (?:\d{1,2}月\d{1,2}日)? (?:（(?P<cls_where>[^）]{1,20})）)? [电讯] (?:（(?P<cls_credit>[^）]{1,30})）)?
      | 中证网讯 (?:（(?P<cs_credit>[^）]{1,40})）)?
      | 证券时报(?:网|e公司)讯
      | 每经AI快讯
      | (?:新华社|中新社|中新网) [\u4e00-\u9fff]{0,8} \d{1,2}月\d{1,2}日电 (?:（(?P<wire_credit>[^）]{1,40})）)?
    )
    \s* [，,：:]? \s*
    """,
    re.VERBOSE,
)

_DISCLAIMER = re.compile(
    r"免责声明[：:]|[（(]每经App登载此文|注[：:].{0,120}(?:不构成投资建议|仅供参考)|本文系新闻报道，不构成投资建议"
)
_STAFF_LINE = re.compile(r"(?P<role>编辑|校对|审核|责编|监制|主编)\s*[|｜:：]\s*(?P<names>\S.{0,30})")
_REPORTER_LINE = re.compile(r"[（(]\s*(?P<role>记者|编辑|实习记者)\s*(?P<names>[^()（）]{2,20})[)）]")
_COMPILED_FROM = re.compile(r"每日经济新闻综合\s*(?P<sources>\S.{0,60})")
_READER_PROMPT = re.compile(r".{0,120}(?:请点击|点击查看|扫码关注|长按识别)[↓↑→\s]*")
_TRAILING_CREDIT = re.compile(r"(?<=[。！？!?”」』.])\s*[(（](?P<who>[^()（）\d，,。:：]{2,14})[)）]\s*$")
_NOT_A_LABEL = re.compile(r"[。！？!?（）()]")  # a sentence, or a bracketed attribution
_NOT_A_CREDIT = ("附", "图", "注", "详见", "见", "完", "续", "组图", "视频", "全文", "上", "下", "待续")


@dataclass
class Credits:
    """The story's paragraphs without the outlet's furniture, and what the furniture said."""

    paragraphs: list[str]
    editor: str | None = None
    original_title: str | None = None
    attribution: str | None = None
    dateline: str | None = None
    digest: str | None = None
    authors: list[str] = field(default_factory=list)
    removed: int = 0

    def add_author(self, name: str) -> None:
        name = name.strip()
        if name and name not in self.authors:
            self.authors.append(name)

    def credit(self, role: str, name: str) -> None:
        if "编辑" in role or role in ("责编", "主编", "监制"):
            self.editor = self.editor or name.strip()
        elif "记者" in role or role == "实习生":
            self.add_author(name)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _names(credits: Credits, text: str) -> bool:
    """Credit every `记者 X` / `编辑 Y` in a credit text; True when there was one."""
    found = False
    for match in _ROLE_NAMES.finditer(text):
        credits.credit(match["role"], match["name"])
        found = True
    return found


def _anywhere(paragraph: str, credits: Credits) -> bool:
    """True when a short paragraph is furniture that can stand anywhere (and was recorded)."""
    if paragraph in _APP_PROMOS:
        return True
    if paragraph.startswith(_IMAGE_CREDIT_START) and _IMAGE_CREDIT.fullmatch(paragraph):
        return True
    editor = _EDITOR.fullmatch(paragraph) if "编" in paragraph else None
    if editor:
        credits.editor = editor["name"]
        return True
    return False


def _head_line(paragraph: str, title: str, credits: Credits, *, last: bool) -> bool:
    """True when a paragraph near the top is furniture (and was recorded)."""
    if title and len(paragraph) <= 2 * len(title) + 8 and _squeezed(paragraph) == title:
        return not last  # the template repeats the title; a body that is only the title stays
    if paragraph.startswith("原标题"):
        original = _ORIGINAL_TITLE.fullmatch(paragraph)
        if original:
            credits.original_title = credits.original_title or original["title"].strip()
            return True
    if paragraph.startswith(_DIGEST_MARK) and credits.digest is None:
        credits.digest = paragraph.lstrip(_DIGEST_MARK).strip()
        return True
    if len(paragraph) > MAX_CREDIT_CHARS:
        return False
    dateline = _DATELINE.fullmatch(paragraph)
    if dateline:
        credits.dateline = credits.dateline or dateline["when"]
        return True
    if paragraph.startswith("每经") and _BYLINE_NBD.fullmatch(paragraph):
        return _names(credits, paragraph)
    byline = _BYLINE_ORG.fullmatch(paragraph)
    if byline:
        credits.add_author(byline["name"])
        return True
    wen = _BYLINE_WEN.fullmatch(paragraph) if paragraph.lstrip("►▶ ").startswith("文") else None
    if wen and len(paragraph) <= 20:
        credits.add_author(wen["who"])
        return True
    return False


def _strip_lead_in(paragraph: str, title: str, credits: Credits) -> str:
    headline = _HEADLINE.match(paragraph)
    if headline:
        inside = _squeezed((headline["headline"] or headline["square"] or "").replace("#", ""))
        if title and (inside.startswith(title[:12]) or title.startswith(inside[:12])):
            paragraph = paragraph[headline.end() :].lstrip()
    lead_in = _LEAD_IN.match(paragraph)
    if lead_in and lead_in.end() > 0:
        for group in ("cls_where", "cls_credit", "cs_credit", "wire_credit"):
            if lead_in[group]:
                _names(credits, lead_in[group])
        paragraph = paragraph[lead_in.end() :]
    return paragraph


def _is_disclaimer(paragraph: str) -> bool:
    return bool(_DISCLAIMER.match(paragraph)) or (len(paragraph) < 200 and "不构成投资建议" in paragraph)


def _is_label(paragraph: str) -> bool:
    """A short line without a sentence in it: the column label or keyword list a site prints under its
    disclaimer (removed only when a disclaimer stands above it)."""
    return len(paragraph) <= MAX_CREDIT_CHARS and _NOT_A_LABEL.search(paragraph) is None


def _tail_line(paragraph: str, credits: Credits) -> bool:
    """True when a paragraph near the end is furniture (and was recorded)."""
    if _is_disclaimer(paragraph):
        return True
    if len(paragraph) > 2 * MAX_CREDIT_CHARS:
        return False
    staff = _STAFF_LINE.fullmatch(paragraph)
    if staff:
        if staff["role"] in ("编辑", "责编", "主编"):
            credits.editor = credits.editor or staff["names"].strip()
        return True
    reporter = _REPORTER_LINE.fullmatch(paragraph)
    if reporter:
        credits.credit(reporter["role"], reporter["names"])
        return True
    compiled = _COMPILED_FROM.fullmatch(paragraph)
    if compiled:
        credits.attribution = credits.attribution or f"综合：{compiled['sources'].strip()}"
        return True
    return bool(_READER_PROMPT.fullmatch(paragraph))


def _trailing_credit(paragraph: str, credits: Credits) -> str:
    """The last paragraph without a `(央视新闻)`-style source credit at its end (recorded)."""
    if not paragraph.endswith((")", "）")):
        return paragraph
    match = _TRAILING_CREDIT.search(paragraph)
    if match is None:
        return paragraph
    who = match["who"].strip()
    if who.startswith(_NOT_A_CREDIT):
        return paragraph
    if who.startswith(("记者", "编辑", "实习记者")):
        if not _names(credits, who):
            return paragraph
    else:
        credits.attribution = credits.attribution or f"来源：{who}"
    return paragraph[: match.start()].rstrip()


def strip_outlet_boilerplate(paragraphs: list[str], title: str | None = None) -> Credits:
    """The story's paragraphs without its outlet's lead-ins, bylines, trailers and promos, and what they said."""
    credits = Credits(paragraphs=[])
    clean_title = _squeezed(title) if title else ""
    kept: list[str] = []
    last = len(paragraphs) - 1
    for position, paragraph in enumerate(paragraphs):
        if position < HEAD and not kept and _head_line(paragraph, clean_title, credits, last=position == last):
            continue
        if len(paragraph) <= MAX_CREDIT_CHARS and _anywhere(paragraph, credits):
            continue
        if kept and paragraph == kept[-1]:
            continue
        kept.append(paragraph)
    if kept:
        first = _strip_lead_in(kept[0], clean_title, credits)
        if first:
            kept[0] = first
        else:
            kept.pop(0)
    end = len(kept)
    tail_start = max(end - TAIL, 0)
    while end > tail_start:
        paragraph = kept[end - 1]
        if not _tail_line(paragraph, credits) and not (
            _is_label(paragraph) and any(_is_disclaimer(above) for above in kept[tail_start : end - 1])
        ):
            break
        end -= 1
    kept = kept[:end]
    if kept:
        kept[-1] = _trailing_credit(kept[-1], credits)
        if not kept[-1]:
            kept.pop()
    credits.removed = len(paragraphs) - len(kept)
    credits.paragraphs = kept
    return credits
