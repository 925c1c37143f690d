"""News-like text from a small built-in vocabulary: Chinese, English, Japanese, German and French.

Each article gets a *theme* (a place, two topics, an institution, a company, two experts) that its
sentences keep coming back to, as a real story does, so keyword extraction has something to find.
Sentences are filled templates; every choice comes from the `random.Random` passed in, so a seed
fixes every character. Nothing here reads a file or the network.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# --- Chinese -------------------------------------------------------------------------------------

ZH_PLACES = (
    "广东", "深圳", "上海", "北京", "浙江", "江苏", "四川", "重庆", "湖北", "杭州", "广州", "天津",
    "海南", "福建", "山东", "安徽", "成都", "武汉", "西安", "苏州", "粤港澳大湾区", "长三角", "京津冀",
)  # fmt: skip
ZH_TOPICS = (
    "跨境电商", "新能源汽车", "人工智能", "数字经济", "半导体", "绿色金融", "消费市场", "房地产市场",
    "先进制造业", "乡村振兴", "科创板", "公募基金", "碳达峰碳中和", "智慧物流", "产业链供应链", "对外贸易",
    "营商环境", "数据要素", "低空经济", "生物医药", "储能产业", "文化旅游", "养老服务", "普惠金融",
)  # fmt: skip
ZH_ORGS = (
    "国务院", "商务部", "国家发展改革委", "中国人民银行", "中国证监会", "财政部", "工业和信息化部",
    "国家统计局", "海关总署", "市场监管总局", "省人民政府", "市政府", "国家金融监督管理总局",
)  # fmt: skip
ZH_INSTITUTES = (
    "对外经济贸易大学国际经贸学院", "中国社会科学院财经战略研究院", "南开大学经济学院", "复旦大学经济学院",
    "国务院发展研究中心", "中金公司研究部", "中信证券研究所", "商务部研究院", "中国人民大学财政金融学院",
)  # fmt: skip
ZH_ROLES = ("教授", "研究员", "首席经济学家", "副所长", "分析师", "主任", "副院长")
ZH_SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
ZH_GIVEN = "健明华磊静伟芳强军洁然涛斌敏宁凯琳峰"
ZH_COMPANIES = (
    "华信科技", "中创集团", "远航物流", "鼎盛证券", "东方新能源", "海川电子", "恒通汽车", "天元医药",
    "联合储能", "星河数据", "瑞丰银行", "长青基金",
)  # fmt: skip
ZH_VERBS = ("推动", "促进", "加快", "支持", "完善", "优化", "提升", "扩大", "深化", "培育", "探索", "引导")
ZH_OBJECTS = (
    "高质量发展", "转型升级", "创新发展", "市场主体", "基础设施建设", "公共服务平台", "政策体系", "协同发展",
    "风险防范体系", "产业集群", "开放合作", "标准体系", "人才队伍建设", "融资渠道", "应用场景",
)  # fmt: skip
ZH_CHALLENGES = (
    "成本偏高", "人才短缺", "融资难", "需求不足", "同质化竞争", "配套不完善", "核心技术受制于人", "监管滞后",
)  # fmt: skip
ZH_PERIODS = ("今年一季度", "今年上半年", "1-5月", "去年全年", "前三季度", "上个月", "过去五年")
ZH_METRICS = ("交易额", "营业收入", "出口额", "投资额", "市场规模", "成交量", "新增企业数量", "净利润")
ZH_DOC_KINDS = ("通知", "实施方案", "指导意见", "行动计划", "若干措施")
ZH_NEWS_NOUNS = ("方案出炉", "政策落地", "数据出炉", "迎来新机遇", "按下加速键", "再获突破", "提速")

ZH_CLAUSES = (
    "{verb}{topic}{obj}",
    "{topic}{obj}仍面临{challenge}等问题",
    "{place}将{verb}{topic2}{obj}",
    "企业需要{verb}{obj}",
    "{topic}的发展空间依然很大",
    "市场主体之间能够相互依赖合作以提高竞争力",
    "要根据地区产业的特征建立对应的{obj}",
    "{topic}与{topic2}的融合将更加紧密",
)
ZH_SENTENCES = (
    "{date}，{org}发布《关于{verb}{topic}{obj}的{doc}》，{place}对{topic}{obj}等方面给出具体规划。",
    "{expert}认为，{clause}，{clause2}。",
    "“{clause}，{clause2}。”{person}说。",
    "数据显示，{period}{place}{topic}{metric}达到{amount}，同比增长{pct}。",
    "{place}提出，{verb}{topic}{obj}，{verb2}{topic2}{obj2}。",
    "在受访专家看来，{clause}，{clause2}，进一步{verb}{obj}。",
    "此外，{place}还将{verb}{topic}{obj}，{clause}。",
    "以{topic2}为例，{clause}，{clause2}。",
    "记者梳理发现，{period}{company}等企业{verb}{topic}{obj}，{metric}增长{pct}。",
    "{company}相关负责人介绍，公司正{verb}{obj}，{clause}。",
    "根据规划，到{year}年，{place}{topic}{metric}将突破{amount}。",
    "业内人士指出，{topic}{obj}需要时间，{clause}。",
)
ZH_TITLES = (
    "{place}{topic}{news}：{verb}{topic2}{obj}",
    "{period}{place}{topic}{metric}同比增长{pct}",
    "{org}：{verb}{topic}{obj}",
    "{topic}{news}，{place}{verb}{obj}",
)
ZH_SUBHEADS = ("{topic}{verb}{obj}", "{verb}{topic2}{obj}", "{place}{topic}的{obj}", "打造{topic}全产业链生态圈")

# --- English -------------------------------------------------------------------------------------

EN_PLACES = ("Harbour City", "the western docks", "the northern district", "Riverside", "the capital", "Eastport")
EN_TOPICS = (
    "shore power", "container traffic", "electric buses", "port logistics", "housing supply", "the bond market",
    "solar capacity", "retail sales", "freight rates", "data centres", "water prices", "tourism",
)  # fmt: skip
EN_ORGS = (
    "the port authority", "the city council", "the central bank", "the transport ministry", "the statistics office",
    "the chamber of commerce", "the energy regulator",
)  # fmt: skip
EN_PEOPLE = ("Mei Lin", "Tom Becker", "Ana Duarte", "Raj Patel", "Sofia Klein", "James Okafor", "Li Wei", "Emma Hart")
EN_ROLES = ("an economist at Eastport University", "chief analyst at Tidewater Securities", "a spokesperson")
EN_VERBS = ("expand", "cut", "review", "support", "accelerate", "reform", "fund", "delay")
EN_NOUNS = (
    "the pilot programme", "new investment", "emissions", "costs", "the tariff", "capacity", "demand",
    "the budget", "exports", "the tender",
)  # fmt: skip
EN_SENTENCES = (
    "{org_cap} said on {weekday} that it would {verb} {noun} for {topic} in {place}.",
    "{topic_cap} grew by {pct} in the {period}, according to figures published by {org}.",
    '"We expect {noun} to rise steadily over the next {n} years," said {person}, {role}.',
    "The plan, worth {amount}, is meant to {verb} {noun} and to {verb2} {noun2}.",
    "Critics argue that {topic} still faces high costs and a shortage of skilled workers.",
    "{person} said the main obstacle was the cost of {noun2}, which can exceed {amount}.",
    "Officials in {place} will {verb} {noun} once the trial ends in {month}.",
    "Analysts said {topic} would remain under pressure until {noun} recovers.",
)
EN_TITLES = ("{place_cap} moves to {verb} {noun} for {topic}", "{topic_cap} up {pct} as {org} plans to {verb} {noun}")
EN_SUBHEADS = ("What changes for {topic}", "Costs and benefits", "The next steps", "A test for {place}")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
EN_MONTHS = ("January", "March", "June", "September", "November")

# --- Japanese, German, French (a few templates each: enough for a language detector) ---------------

JA_SENTENCES = (
    "{place}の{topic}は{period}に前年同期比{pct}増加した。",
    "政府は{topic}の支援策を拡充する方針を明らかにした。",
    "専門家によると、{topic}の市場はこれからも拡大する見通しだという。",
    "関係者は「{topic}の課題はまだ多い」と話している。",
    "同社は新しい工場を建設し、生産能力を高める計画だ。",
)
JA_TITLES = ("{place}の{topic}、{pct}増", "{topic}の新たな支援策を発表")
JA_PLACES = ("東京", "大阪", "名古屋", "福岡", "横浜", "札幌")
JA_TOPICS = ("電気自動車", "半導体", "観光業", "物流", "再生可能エネルギー", "人工知能")
JA_PERIODS = ("第1四半期", "上半期", "昨年度")

DE_SENTENCES = (
    "Die Stadtverwaltung von {place} hat am {weekday} angekündigt, die Förderung für {topic} auszubauen.",
    "Nach Angaben des Statistikamts stieg der Umsatz im Bereich {topic} um {pct}.",
    "„Wir rechnen mit einer deutlichen Nachfrage in den kommenden Jahren“, sagte ein Sprecher des Unternehmens.",
    "Kritiker bemängeln, dass die Kosten für {topic} weiterhin sehr hoch sind und Fachkräfte fehlen.",
    "Das Programm soll zunächst zwei Jahre laufen und danach überprüft werden.",
)
DE_TITLES = ("{place} baut Förderung für {topic} aus", "Umsatz mit {topic} steigt um {pct}")
DE_PLACES = ("Hamburg", "Bremen", "Köln", "Leipzig", "München")
DE_TOPICS = ("Elektrobusse", "Landstrom", "Solaranlagen", "den Hafenumschlag", "Wohnungsbau")
DE_WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag")

FR_SENTENCES = (
    "La mairie de {place} a annoncé {weekday} un nouveau plan de soutien pour {topic}.",
    "Selon l'institut de la statistique, le chiffre d'affaires du secteur {topic} a progressé de {pct}.",
    "« Nous attendons une forte demande dans les prochaines années », a déclaré une porte-parole de l'entreprise.",
    "Les critiques estiment que les coûts restent élevés et que la main-d'œuvre qualifiée manque toujours.",
    "Le programme doit durer deux ans avant d'être évalué par les autorités locales.",
)
FR_TITLES = ("{place} renforce son soutien à {topic}", "Le secteur {topic} progresse de {pct}")
FR_PLACES = ("Marseille", "Lyon", "Bordeaux", "Nantes", "Lille")
FR_TOPICS = ("des bus électriques", "du fret maritime", "de l'énergie solaire", "du logement", "du tourisme")
FR_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi")

LANGUAGES = ("zh", "en", "ja", "de", "fr")


def _pct(rng: random.Random) -> str:
    return f"{rng.uniform(0.5, 60):.1f}%"


@dataclass(frozen=True)
class Theme:
    """What one article is about: the names its sentences keep coming back to."""

    language: str
    place: str
    topic: str
    topic2: str
    org: str
    company: str
    people: tuple[str, str]
    experts: tuple[str, str]


def make_theme(rng: random.Random, language: str) -> Theme:
    if language == "zh":
        topic, topic2 = rng.sample(ZH_TOPICS, 2)
        people = tuple(rng.choice(ZH_SURNAMES) + "".join(rng.sample(ZH_GIVEN, rng.choice((1, 2)))) for _ in range(2))
        experts = tuple(f"{rng.choice(ZH_INSTITUTES)}{rng.choice(ZH_ROLES)}{person}" for person in people)
        return Theme(
            language, rng.choice(ZH_PLACES), topic, topic2, rng.choice(ZH_ORGS), rng.choice(ZH_COMPANIES),
            (people[0], people[1]), (experts[0], experts[1]),
        )  # fmt: skip
    if language == "en":
        topic, topic2 = rng.sample(EN_TOPICS, 2)
        a, b = rng.sample(EN_PEOPLE, 2)
        return Theme(language, rng.choice(EN_PLACES), topic, topic2, rng.choice(EN_ORGS), "", (a, b), (a, b))
    places, topics = {"ja": (JA_PLACES, JA_TOPICS), "de": (DE_PLACES, DE_TOPICS), "fr": (FR_PLACES, FR_TOPICS)}[
        language
    ]
    topic, topic2 = rng.sample(topics, 2)
    return Theme(language, rng.choice(places), topic, topic2, "", "", ("", ""), ("", ""))


class Writer:
    """Sentences, titles and sub-heads of one article, in its theme's language."""

    def __init__(self, rng: random.Random, theme: Theme) -> None:
        self.rng = rng
        self.theme = theme

    def _fill(self, template: str) -> str:
        rng, theme = self.rng, self.theme
        values: dict[str, Callable[[], str]] = {
            "place": lambda: theme.place if rng.random() < 0.7 else self._other_place(),
            "topic": lambda: theme.topic,
            "topic2": lambda: theme.topic2 if rng.random() < 0.7 else self._other_topic(),
            "pct": lambda: _pct(rng),
            "n": lambda: str(rng.randint(2, 10)),
            "year": lambda: str(rng.randint(2025, 2035)),
        }
        if theme.language == "zh":
            values.update(self._zh_values())
        elif theme.language == "en":
            values.update(self._en_values())
        else:
            values.update(self._other_values())
        out: dict[str, str] = {}
        for name in _fields(template):
            out[name] = values[name]()
        return template.format(**out)

    def _other_place(self) -> str:
        pool = {"zh": ZH_PLACES, "en": EN_PLACES, "ja": JA_PLACES, "de": DE_PLACES, "fr": FR_PLACES}
        return self.rng.choice(pool[self.theme.language])

    def _other_topic(self) -> str:
        pool = {"zh": ZH_TOPICS, "en": EN_TOPICS, "ja": JA_TOPICS, "de": DE_TOPICS, "fr": FR_TOPICS}
        return self.rng.choice(pool[self.theme.language])

    def _zh_values(self) -> dict[str, Callable[[], str]]:
        rng, theme = self.rng, self.theme
        return {
            "org": lambda: theme.org,
            "company": lambda: theme.company,
            "verb": lambda: rng.choice(ZH_VERBS),
            "verb2": lambda: rng.choice(ZH_VERBS),
            "obj": lambda: rng.choice(ZH_OBJECTS),
            "obj2": lambda: rng.choice(ZH_OBJECTS),
            "challenge": lambda: rng.choice(ZH_CHALLENGES),
            "period": lambda: rng.choice(ZH_PERIODS),
            "metric": lambda: rng.choice(ZH_METRICS),
            "doc": lambda: rng.choice(ZH_DOC_KINDS),
            "news": lambda: rng.choice(ZH_NEWS_NOUNS),
            "date": lambda: f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            "amount": lambda: f"{rng.randint(2, 980)}{rng.choice(('亿元', '万元', '万辆', '万吨', '亿美元'))}",
            "expert": lambda: rng.choice(theme.experts),
            "person": lambda: rng.choice(theme.people),
            "clause": lambda: self._fill(rng.choice(ZH_CLAUSES)),
            "clause2": lambda: self._fill(rng.choice(ZH_CLAUSES)),
        }

    def _en_values(self) -> dict[str, Callable[[], str]]:
        rng, theme = self.rng, self.theme
        return {
            "org": lambda: theme.org,
            "org_cap": lambda: theme.org[0].upper() + theme.org[1:],
            "topic_cap": lambda: theme.topic[0].upper() + theme.topic[1:],
            "place_cap": lambda: theme.place[0].upper() + theme.place[1:],
            "verb": lambda: rng.choice(EN_VERBS),
            "verb2": lambda: rng.choice(EN_VERBS),
            "noun": lambda: rng.choice(EN_NOUNS),
            "noun2": lambda: rng.choice(EN_NOUNS),
            "person": lambda: rng.choice(theme.people),
            "role": lambda: rng.choice(EN_ROLES),
            "weekday": lambda: rng.choice(EN_WEEKDAYS),
            "month": lambda: rng.choice(EN_MONTHS),
            "period": lambda: rng.choice(("first quarter", "first half", "past year")),
            "amount": lambda: f"${rng.randint(2, 900)} million",
        }

    def _other_values(self) -> dict[str, Callable[[], str]]:
        rng = self.rng
        weekdays = {"de": DE_WEEKDAYS, "fr": FR_WEEKDAYS}.get(self.theme.language, EN_WEEKDAYS)
        return {"period": lambda: rng.choice(JA_PERIODS), "weekday": lambda: rng.choice(weekdays)}

    def sentence(self) -> str:
        pools = {
            "zh": ZH_SENTENCES,
            "en": EN_SENTENCES,
            "ja": JA_SENTENCES,
            "de": DE_SENTENCES,
            "fr": FR_SENTENCES,
        }
        return self._fill(self.rng.choice(pools[self.theme.language]))

    def title(self) -> str:
        pools = {"zh": ZH_TITLES, "en": EN_TITLES, "ja": JA_TITLES, "de": DE_TITLES, "fr": FR_TITLES}
        return self._fill(self.rng.choice(pools[self.theme.language]))

    def subhead(self) -> str:
        if self.theme.language == "zh":
            return self._fill(self.rng.choice(ZH_SUBHEADS))
        if self.theme.language == "en":
            return self._fill(self.rng.choice(EN_SUBHEADS))
        return self.title()

    def paragraph(self, target_chars: int) -> str:
        """Sentences until the paragraph reaches about `target_chars` characters."""
        joiner = "" if self.theme.language in ("zh", "ja") else " "
        sentences: list[str] = []
        size = 0
        while size < target_chars:
            sentence = self.sentence()
            sentences.append(sentence)
            size += len(sentence) + len(joiner)
        return joiner.join(sentences)


def _fields(template: str) -> Sequence[str]:
    """The `{name}` fields of a template, in order, without repeats."""
    names: list[str] = []
    for part in template.split("{")[1:]:
        name = part.split("}", 1)[0]
        if name not in names:
            names.append(name)
    return names
