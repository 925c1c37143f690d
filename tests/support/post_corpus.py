"""The 218 real posts of `../shared/data` and what each must become, established by reading them.

The corpus lives beside the checkout (`<repo>/../shared/data`) and is never copied into the repo;
`corpus_dir()` fails the test with a clear message when it is missing. Expectations come from the
posts themselves and their manifest, independently of the code under test:
- title: the front matter's `title` (read here with PyYAML); the one post with an empty title has
  the first sentence of its body, read off the file;
- published: the front matter's `date`, parsed here with the standard library (finews writes Beijing
  time, with or without `+0800`; the Hexo mirror writes RFC 1123 GMT); its day is the manifest's
  `date`. Unreadable dates give no date, except three 每经网 posts whose bodies print a dateline;
- category: the manifest's `category` (`emnews`, `证券时报网/要闻`: the Hexo path below 金融);
- outlet: finews maps its categories (`OUTLETS`, as the README's example configures it); a Hexo
  post's outlet is its site, the first level of the manifest's category (also its `author`);
- tickers, editors and original titles: read off the posts by hand (`TICKERS`, `EDITORS`, ...);
- trailers: strings that the outlets' templates add and that must not survive in `body_text`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path

import pytest
import yaml

from pipeline.sources.catalog import SourceConfig, load_sources
from schemas.models import SourceInfo

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "data"
FOLDERS = ("finews", "rsshub-page")
BEIJING = timezone(timedelta(hours=8))

OUTLETS = {"emnews": "东方财富", "21shijijingjibaodao": "21世纪经济报道"}


@cache
def configured() -> dict[str, SourceConfig]:
    """The two mirrors as sources.yaml configures them (disabled there: they are test data)."""
    sources = {source.id: source for source in load_sources(REPO / "sources.yaml") if source.id in FOLDERS}
    assert set(sources) == set(FOLDERS), "sources.yaml lost its post mirror examples"
    assert sources["finews"].outlets == OUTLETS, "the README's outlets example changed"
    return sources


EMPTY_TITLE = {"-202205262391921712.md": "国内首款使用超低GWP(全球变暖潜值)制冷剂的新能源汽车来了！"}
# Posts whose front matter says `date: Invalid Date` but whose 每经网 template prints when it was published.
DATELINES = {
    "10亿购入的子公司100万出售  天泽信息收关注函.md": datetime(2021, 10, 19, 21, 45, 40, tzinfo=BEIJING),
    "10月11日日经225指数收盘上涨158%.md": datetime(2021, 10, 11, 14, 2, 4, tzinfo=BEIJING),
    "10月29日人民币中间价上调50点，报63907.md": datetime(2021, 10, 29, 9, 15, 53, tzinfo=BEIJING),
}
# Codes printed as codes in the text, or carried by the quote links around company names.
TICKERS: dict[str, set[str]] = {
    "-202205262391921712.md": {"NIO.US", "600160.SH", "300343.SZ", "600636.SH"},  # Eastmoney data-code links
    "2021-12-08-202112082206736335.md": {"600519.SH"},
    "2021-12-08-202112082206736549.md": {"000876.SZ"},
    "2021-12-08-202112082206736819.md": {"0388.HK"},
    "old_post_2021-12-08-202112082206736819.md": {"0388.HK"},
    "2021-12-08-202112082206747356.md": {"9869.HK"},
    "2021-12-08-202112082206769714.md": {"516380.SH"},
    "2021-12-08-202112082206779752.md": {"002456.SZ"},
    "2021-12-08-202112082206793370.md": {"3868.HK"},
    "2021-12-08-202112082206794293.md": {"9988.HK"},
    "2021-12-08-202112082206796032.md": {"0027.HK", "1928.HK"},
    "2021-12-08-202112082206796814.md": {"002456.SZ"},
    "2021-12-08-202112082206797286.md": {"2888.HK"},
    "2021-12-08-202112082206803113.md": {"1810.HK"},
    "2021-12-08-202112082206807620.md": {"1579.HK"},
    "2021-12-08-202112082206808923.md": {"0388.HK"},
    "2021-12-08-202112082206811771.md": {"600206.SH"},
    "2021-12-08-202112082206826055.md": {"9869.HK"},
    "2021-12-08-202112082206884861.md": {"1652.HK"},
    "2021-12-08-202112082206885265.md": {"3301.HK"},
    "2021-12-08-202112082206934992.md": {"2197.HK"},
    "2021-12-08-202112082206972753.md": {"600028.SH"},
    "2021-12-08-202112082206978381.md": {"000913.SZ"},
    "2021-12-08-202112082207012974.md": {"1548.HK"},
    "2021-12-08-202112082207034488.md": {"1797.HK"},
    "2021-12-08-202112082207056189.md": {"000901.SZ"},
    "2021-12-08-202112082207073811.md": {"003816.SZ"},
    "2021-12-08-202112082207148720.md": {"002007.SZ"},
    "2021-12-08-202112082207152228.md": {"601633.SH"},
    # US listings marked with their exchange: 瑞士信贷(CS.N), 英特尔(INTC.O), Sunoco Lp（SUN.N）
    "2021-12-08-202112082206876726.md": {"CS.US"},
    "2021-12-08-202112082206897139.md": {"INTC.US"},
    "2021-12-08-202112082206954012.md": {"CS.US", "SUN.US"},
    "023%! 华夏合肥高新REIT刷新公众配售比例纪录.md": {"601211.SH", "300832.SZ"},  # stcn trsHotWords links
    "100只个股涨停 主要集中在公用事业、化工等行业.md": {
        "600856.SH",
        "603026.SH",
        "000009.SZ",
        "002354.SZ",
        "002466.SZ",
        "300266.SZ",
    },
    "10亿购入的子公司100万出售  天泽信息收关注函.md": {"300209.SZ"},
    "10月11日38只个股获券商关注，蔚蓝锂芯目标涨幅达5586%.md": {
        "002245.SZ",
        "603997.SH",
        "300014.SZ",
        "600426.SH",
        "002881.SZ",
        "600438.SH",
    },
    "10月CPI上涨15% PPI涨幅扩大至135%.md": {"600016.SH"},
    "120秒看懂海油发展（600968SH）2021年全年业绩亮点.md": {"600968.SH"},
    "12月复旦碳价指数公布 首次披露全国CCER价格预估.md": {"601211.SH"},
    "_巨无霸_连续两日一字跌停,市值蒸发1059亿元.md": {"601728.SH", "0728.HK"},
    "_核弹_级打击！银保监会、住建部、央行联合发文….md": {"601288.SH", "000001.SZ"},
    "_铁腕_控价成果显现？飞天茅台市场价一降再降 集团回应称是市场行为.md": {"600519.SH"},
}
EDITORS = {
    # 新浪财经: 责任编辑
    "0！.md": "梁斌",
    "0！北京昨日本土无新增.md": "刘万里",
    "1-11月份全国规模以上工业企业利润同比增长380% 两年平均增长189%.md": "王蒙",
    "100万吨国家钾肥储备投放保春耕.md": "王蒙",
    "_中国用12年时间，走过竞争对手50多年发展道路_.md": "王蒙",
    "_绿色股票_试水欧洲.md": "冯体炜",
    "新浪财经－国內_1-2月31个省市区一般公共预算收入全部正增长.md": "刘万里",
    # 每经网: 每经编辑 / 每经实习编辑
    "+183%！刚刚，中国经济一季度成绩单公布.md": "孙志成",
    "1400亿！微软拿下美国军方大合同.md": "夏志坚",
    "16_2！辉瑞疫苗加强针计划被美国FDA否决.md": "李泽东",
    "_巨无霸_连续两日一字跌停,市值蒸发1059亿元.md": "杜宇",
    "10亿购入的子公司100万出售  天泽信息收关注函.md": "文多",
    # 财联社: （编辑 X）
    "-21%！最_刺耳_经济衰退警报在美国独立日假期前拉响.md": "潇湘",
    "10%日本新冠患者一年后仍有后遗症：常见为肌肉变弱呼吸困难.md": "牛占林",
    "10月11日美国宏观事历提醒：关注美联储官员讲话.md": "黄君芝",
}
ORIGINAL_TITLES = {
    "1-11月份全国规模以上工业企业利润同比增长380% 两年平均增长189%.md": (
        "2021年1—11月份全国规模以上工业企业利润同比增长38.0% 两年平均增长18.9%"
    ),
    "_中国用12年时间，走过竞争对手50多年发展道路_.md": "“中国用12年时间，走过竞争对手50多年发展道路”",
    "_绿色股票_试水欧洲.md": "“绿色股票”试水欧洲丨明言ESG",
}
# What the outlets' templates and the mirrors add around a story: none of it may reach body_text.
TRAILERS = (
    "海量资讯、精准解读，尽在新浪财经APP",
    "责任编辑",
    "原标题",
    "appendQr",
    "&#123;",
    "news_keyword_pub",
    "正文下iframe",
    "免责声明",
    "每经App登载此文",
    "封面图片来源",
    "图片来源",
    "每经AI快讯",
    "每经记者",
    "每经编辑",
    "每经实习",
    "每日经济新闻综合",
    "请点击↓",
    "乐视20亿美元",
    "影视影",
    "typeTag",
    "本文系新闻报道，不构成投资建议",
    "证券时报e公司讯",
    "证券时报网讯",
    "中证网讯",
    "文章来源",
    "返回首页",
    "返回东财滚动新闻",
    "返回21世纪经济报道",
    "finews.withounder.com",
    "finews.zning.me",
    "<http",
    "<>",
    "</",
    "<p",
    "<div",
)
TRAILER_PATTERNS = (
    re.compile(r"^财联社(?:\d{1,2}月\d{1,2}日)?(?:（[^）]*）)?[电讯]", re.M),  # 财联社 datelines opening a paragraph
    re.compile(r"^【[^】]+】财联社", re.M),
    re.compile(r"每日经济新闻\s*\d{4}-\d{2}-\d{2}"),
    re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", re.M),
    re.compile(r"[（(](?:记者|编辑)[^（）()]{1,8}[）)]$", re.M),
)


@dataclass(frozen=True)
class Post:
    folder: str
    name: str
    path: Path
    category: str  # from the manifest
    day: str  # the manifest's date: the day as the post writes it, "" when it has none
    front: dict[str, object]

    @property
    def source(self) -> SourceInfo:
        return configured()[self.folder].info()

    @property
    def title(self) -> str:
        written = str(self.front.get("title") or "").strip()
        return written or EMPTY_TITLE[self.name]

    @property
    def outlet(self) -> str:
        return OUTLETS[self.category] if self.folder == "finews" else self.category.split("/")[0]

    @property
    def published(self) -> datetime | None:
        if self.name in DATELINES:
            return DATELINES[self.name]
        written = str(self.front.get("date") or "").strip()
        if self.folder == "finews":
            match = re.fullmatch(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?: \+0800)?", written)
            return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING) if match else None
        try:
            return parsedate_to_datetime(written)
        except (TypeError, ValueError):
            return None

    @property
    def written_day(self) -> str:
        """The day of the date as the post wrote it (Beijing time in finews, GMT in the Hexo mirror)."""
        published = self.published
        if published is None or self.name in DATELINES:
            return ""
        return published.astimezone(BEIJING if self.folder == "finews" else UTC).date().isoformat()


def corpus_dir() -> Path:
    if not (CORPUS / "manifest.tsv").is_file():
        pytest.fail(
            f"the post corpus is missing: expected {CORPUS}/manifest.tsv and its folders "
            "(the shared data folder beside the checkout, ../shared/data); it is never copied into the repo"
        )
    return CORPUS


def _front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n").lstrip("\n")
    _, front, _ = text.split("---\n", 2)
    loaded = yaml.load(front, Loader=yaml.BaseLoader)  # every value as the text written
    assert isinstance(loaded, dict), path
    return loaded


@cache
def posts() -> tuple[Post, ...]:
    root = corpus_dir()
    with (root / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    found = []
    for row in rows:
        path = root / row["folder"] / row["file"]
        found.append(Post(row["folder"], row["file"], path, row["category"], row["date"], _front_matter(path)))
    return tuple(found)


def comparable(text: str) -> str:
    """Text up to Unicode compatibility forms and spacing: how a cleaned title is compared to the written one."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def trailers_in(body_text: str) -> list[str]:
    """The known trailer strings and patterns found in a body text."""
    found = [trailer for trailer in TRAILERS if trailer in body_text]
    found += [pattern.pattern for pattern in TRAILER_PATTERNS if pattern.search(body_text)]
    return found
