"""Lead-ins and trailers of news templates: lines around an article that are not the article.

Chinese outlets wrap a story in lines a reader skips: `原标题：…` and bylines (`每经记者 张明　每经编辑 陈星`,
`21世纪经济报道记者 王峰 北京报道`) before it; `责任编辑：王蒙`, `（文章来源：21世纪经济报道）`, `封面图片来源：…`,
statements (`郑重声明：…`, `特别提醒：…`), app promotions (`海量资讯、精准解读，尽在新浪财经APP`), share bars
(`分享到：`, `【纠错】`, `扫一扫`) and related-link headings after it. English wire copy has `Reporting by …;
Editing by …`, `Our Standards: …`, newsletter sign-ups and `Read more:` lines. Each rule looks only at
short paragraphs (a rule never removes prose) and at the start or the end of the text, except promotions
and share bars, which may sit anywhere. What a trailer says that is worth keeping (the editor, the
original title, the attribution, the byline's names) is returned with the paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.normalize.boilerplate import attribution_of

SHORT = 120  # longer paragraphs are prose: no rule applies to them
LEAD_WINDOW = 4  # paragraphs from the start searched for lead-ins

_EDITOR = re.compile(
    r"^[【\[（(]?\s*(?:【纠错】\s*)?[【\[（(]?\s*(?:责任编辑|责编|编辑|值班编辑|主编|编审)(?:\s*[:：]\s*|\s+)"
    r"(?P<name>[^】\]）)\s|｜,，:：]{1,20})(?=$|[】\]）)\s|｜,，])"
)
_PROOFREADER = re.compile(r"^[【\[（(]?\s*(?:校对|审校|审核|监制|策划|统筹|实习生|摄影|制图|视频)\s*[:：]")
_ORIGINAL_TITLE = re.compile(r"^原标题\s*[:：]\s*(?P<title>.{1,100})$")
_BYLINE_ZH = re.compile(
    r"^(?:(?:[\u4e00-\u9fff\w]{0,12}?记者|通讯员)\s*[:：]?|(?:作者|文)\s*[:：/｜|])\s*"
    r"(?P<names>[\u4e00-\u9fff·]{2,4}(?:[\s、，,]+[\u4e00-\u9fff·]{2,4})*?)"
    r"(?:\s+[\u4e00-\u9fff]{0,12}?(?:编辑|报道|通讯员|实习生)[\s\S]{0,40})?$"
)
_NAME_EN = r"[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}"
_BYLINE_EN = re.compile(rf"^By\s+(?P<names>{_NAME_EN}(?:\s*(?:,|and|&)\s*{_NAME_EN}){{0,5}})")
_DATE_LINE = re.compile(
    r"^(?:发布时间[:：]\s*)?\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
    r"(?:\s*(?:来源|作者)[:：]\s*\S{1,30}){0,2}$"
)
_SOURCE_LINE = re.compile(r"^(?:来源|稿源|出处)\s*[:：]\s*\S{1,30}$")
_STATEMENT = re.compile(
    r"^[【\[（(]?\s*(?:新浪|网易|搜狐|腾讯)?(?:郑重|免责|特别|版权|重要)?(?:声明|提醒|提示|说明)\s*[:：]|^风险提示"
    r"|^(?:本文|文章)(?:仅代表|不构成|系转载)|^(?:未经授权|版权所有)"
)
_IMAGE_CREDIT = re.compile(r"^[（(]?(?:封面图片|封面|题图|头图|图片|配图|首图)\s*来源\s*[:：]")
_PROMOTION = re.compile(r"(?:APP|App|app|客户端|公众号|小程序)")
_PROMOTION_VERB = re.compile(r"(?:下载|尽在|关注|扫码|扫一扫|打开|获取|订阅|加入|点击)")
_SHARE = re.compile(
    r"^(?:分享到|分享至|分享|扫一扫|扫码|扫描二维码|收藏|点赞|打印|关闭窗口|字号|纠错|【纠错】|举报|返回顶部|返回首页)"
    r"(?:[:：\s].{0,40})?$"
)
_RELATED = re.compile(
    r"^[【\[]?(?:相关(?:阅读|新闻|报道|文章|链接|推荐|专题)|推荐阅读|延伸阅读|热门推荐|热点推荐|猜你喜欢|更多(?:精彩|资讯|内容|报道)"
    r"|点击进入专题|往期回顾|上一篇|下一篇)[】\]]?(?:[:：].{0,80})?$"
)
_EN_TRAILER = re.compile(
    r"^(?:\(?(?:Additional )?(?:Reporting|Writing|Editing|Compiled|Graphics?) by\b"
    r"|-+\s*By\s+[A-Z]|Our Standards:|All quotes delayed|Copyright ©|© \d{4}"
    r"|(?:Read|READ) (?:more|MORE)\b|Related(?: Coverage| Stories| Articles| Content)?$|Also read\b|See more photos"
    r"|Follow .{1,60} on (?:Twitter|Facebook|X|Instagram|LinkedIn)\b|Share this (?:article|story)"
    r"|Comments?$|\d+ Comments?$)"
)
_PAYWALL = re.compile(
    r"会員限定|有料会員|続きをお読み|会员专享|付费阅读|订阅后(?:阅读|查看)|"
    r"(?:Subscribe|Sign in|Log in) to (?:continue|read)|This (?:article|story) is (?:for|available to) subscribers"
)
_EN_ANYWHERE = re.compile(
    r"^(?:Advertisement|ADVERTISEMENT|Sponsored|Story continues below(?: advertisement)?|Skip (?:Advertisement|ad)"
    r"|(?:Sign up|Subscribe)\b.{0,100}(?:newsletter|inbox|email)|Click here to\b.{0,80})\.?$"
)


@dataclass
class Trimmed:
    paragraphs: list[str]
    editor: str | None = None
    original_title: str | None = None
    attribution: str | None = None
    authors: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def editor_of(line: str) -> str | None:
    match = _EDITOR.match(line) if len(line) <= 60 else None
    return match["name"] if match else None


def byline_names(line: str) -> list[str] | None:
    """The names of a byline paragraph (`每经记者 张明 刘晓　每经编辑 陈星` -> [张明, 刘晓]), or None."""
    if len(line) > 80 or "。" in line:
        return None
    match = _BYLINE_ZH.match(line) or _BYLINE_EN.match(line)
    if match is None:
        return None
    separator = r"\s*(?:,|&|\band\b)\s*" if match["names"].isascii() else r"[\s、，,]+"
    names = re.split(separator, match["names"])
    return [name for name in names if name and not name.endswith(("报道", "编辑"))]


def _anywhere(line: str) -> str | None:
    """Why a short paragraph anywhere in the text is not the article, or None."""
    if _SHARE.match(line):
        return "share bar"
    if len(line) <= 60 and _PROMOTION.search(line) and _PROMOTION_VERB.search(line):
        return "app promotion"
    if _EN_ANYWHERE.match(line):
        return "promotion"
    if _PAYWALL.search(line):
        return "paywall notice"
    return None


def _trailer(line: str, trimmed: Trimmed) -> str | None:
    """Why a short paragraph at the end is a trailer (recording what it says), or None."""
    editor = editor_of(line)
    if editor is not None:
        trimmed.editor = trimmed.editor or editor
        return "editor line"
    attribution = attribution_of(line)
    if attribution is not None:
        trimmed.attribution = trimmed.attribution or attribution
        return "attribution"
    for pattern, why in (
        (_PROOFREADER, "credits"),
        (_STATEMENT, "statement"),
        (_IMAGE_CREDIT, "image credit"),
        (_RELATED, "related links"),
        (_EN_TRAILER, "trailer"),
        (_SOURCE_LINE, "source line"),
    ):
        if pattern.match(line):
            return why
    return _anywhere(line)


def _lead(line: str, trimmed: Trimmed, title: str | None) -> str | None:
    """Why a short paragraph at the start is a lead-in (recording what it says), or None."""
    if title and line == title:
        return "title repeated"
    match = _ORIGINAL_TITLE.match(line)
    if match:
        trimmed.original_title = match["title"].strip()
        return "original title"
    names = byline_names(line)
    if names:
        trimmed.authors.extend(name for name in names if name not in trimmed.authors)
        return "byline"
    if _DATE_LINE.match(line) or _SOURCE_LINE.match(line):
        return "date line"
    attribution = attribution_of(line)
    if attribution is not None:
        trimmed.attribution = trimmed.attribution or attribution
        return "attribution"
    return _anywhere(line)


def trim(paragraphs: list[str], *, title: str | None, forms: list[str] | None = None) -> Trimmed:
    """The paragraphs without lead-ins, trailers and promotions, and what those said.

    `forms` are the same paragraphs as one-line text that keeps the spaces between CJK words (what the
    rules read: `记者 王峰 北京报道` names 王峰, `记者王峰北京报道` could not); by default the paragraphs themselves.
    """
    lines = forms if forms is not None and len(forms) == len(paragraphs) else paragraphs
    trimmed = Trimmed([])
    start, end = 0, len(lines)
    while start < min(end, LEAD_WINDOW) and len(lines[start]) <= SHORT:
        why = _lead(lines[start], trimmed, title)
        if why is None:
            break
        trimmed.dropped.append(f"{why}: {lines[start]}")
        start += 1
    while end > start and len(lines[end - 1]) <= SHORT:
        why = _trailer(lines[end - 1], trimmed)
        if why is None:
            break
        trimmed.dropped.append(f"{why}: {lines[end - 1]}")
        end -= 1
    for line, paragraph in zip(lines[start:end], paragraphs[start:end], strict=True):
        why = _anywhere(line) if len(line) <= SHORT else None
        if why is None:
            trimmed.paragraphs.append(paragraph)
        else:
            trimmed.dropped.append(f"{why}: {line}")
    return trimmed
