"""Seeded generator of the bundled demo county, 青岚县 (fictional).

:func:`generate` writes ``registry.csv`` and one long Observations file per year
(``observations_<year>.csv``, see ``docs/architecture.md``) into a folder. Its output is a pure
function of the seed and the years: the files shipped in ``evalkit/demo/data/`` are exactly what
``generate(DEMO_DATA_DIR)`` writes with the default seed, byte for byte.

How the data is made:

- **The county.** 48 schools in 11 townships: 2 高中, 1 职高, 7 初中, 6 九年一贯制, 32 小学
  (4 county-town primaries, 6 township central primaries, 22 village primaries), within the
  45–55 assessed units of a real county of this kind (teaching points belong to a central
  school and are not assessed separately). Names, types and townships are fixed, and ids
  follow the order of ``_SCHOOLS`` (schools added later are appended, so ids never move);
  pupils, staff and Party members are drawn within realistic ranges for each kind of school.
  Some village primaries (pairs in the same township) share a joint Party branch.
- **A latent quality per school and year.** A school-level random walk (with a slight
  county-wide improvement each year) plus a stable offset per area, so a school strong in one
  area tends to be strong in the others; small village schools with few Party members miss
  more meetings (A1, A3, B5) and have fewer Party applicants.
- **Observations.** For every school × indicator: a ``self`` row (自评, slightly inflated) and
  an ``inspection`` row (实地核查); rating indicators have 3–5 inspectors' rows (``R1``…)
  instead of one inspection row; survey indicators have one ``survey`` row; item-weighted
  indicators (C5, C7) have one row per item and source. Bonus items (X1–X3) and flag vetoes
  (V1–V4) are ``inspection`` rows only where they happen; V5 follows from E7.
- **Values** are canonical (counts as whole numbers, ratios in 0–1 to 3 decimals, yes/no 1/0,
  ratings A–D, honour levels ``national``…``none``, survey scores to 1 decimal); some rows
  carry a short Chinese evidence note (佐证材料).

Random numbers come from :class:`random.Random` seeded with strings (stable across Python
versions and platforms), one stream per school, per school × year and per county × year, so a
year's data does not depend on which other years are generated (years from 2022 on).
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import os
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "COUNTY",
    "DEFAULT_SEED",
    "DEFAULT_YEARS",
    "INDICATOR_ORDER",
    "OBSERVATION_COLUMNS",
    "REGISTRY_COLUMNS",
    "School",
    "build_county",
    "cli_generate",
    "generate",
]

DEFAULT_SEED = 20240901
DEFAULT_YEARS: tuple[int, ...] = (2022, 2023, 2024)
FIRST_YEAR = 2022  # the random walk of school quality starts here (or earlier if asked)
COUNTY = "青岚县"

OBSERVATION_COLUMNS = ["school_id", "year", "indicator_id", "item", "source", "rater", "value", "evidence"]
REGISTRY_COLUMNS = [
    "school_id", "school_name", "school_type", "township", "pupils", "staff", "party_members",
    "branch", "active_from", "active_to",
]

#: Indicator ids of the default framework in its order (checked against the YAML by the tests).
INDICATOR_ORDER = (
    "A1 A2 A3 A4 A5 A6 A7 A8 B1 B2 B3 B4 B5 B6 B7 C1 C2 C3 C4 C5 C6 C7 C8 C9 "
    "D1 D2 D3 D4 D5 D6 E1 E2 E3 E4 E5 E6 E7"
).split()
BONUS_IDS = ("X1", "X2", "X3")
FLAG_VETO_IDS = ("V1", "V2", "V3", "V4")

# ---------------------------------------------------------------------------------------------
# The county
# ---------------------------------------------------------------------------------------------

#: kind → (school_type, pupils range, pupils per staff member, Party members range, quality offset)
KINDS: dict[str, tuple[str, tuple[int, int], float, tuple[int, int], float]] = {
    "high": ("高中", (2000, 3600), 12.5, (40, 120), 0.35),
    "vocational": ("职高", (1500, 2200), 11.0, (30, 50), 0.0),
    "town_middle": ("初中", (1100, 1800), 11.5, (30, 55), 0.3),
    "middle": ("初中", (450, 950), 10.5, (12, 30), 0.0),
    "nine": ("九年一贯制", (350, 950), 10.5, (12, 28), -0.1),
    "town_primary": ("小学", (1500, 3000), 15.5, (30, 60), 0.4),
    "central": ("小学", (550, 1300), 17.0, (15, 40), 0.1),
    "village": ("小学", (150, 800), 17.5, (3, 8), -0.6),
}

# (name, township, kind); the position gives the id ("001", "002", …).
_SCHOOLS: tuple[tuple[str, str, str], ...] = (
    ("青岚中学", "城关镇", "high"),
    ("青岚县第二中学", "城关镇", "high"),
    ("青岚县职业教育中心", "城关镇", "vocational"),
    ("青岚县城关中学", "城关镇", "town_middle"),
    ("青岚县实验中学", "城关镇", "town_middle"),
    ("石门中学", "石门镇", "middle"),
    ("白鹤中学", "白鹤镇", "middle"),
    ("柳溪中学", "柳溪镇", "middle"),
    ("黄龙中学", "黄龙镇", "middle"),
    ("清水中学", "清水镇", "middle"),
    ("松坪九年制学校", "松坪镇", "nine"),
    ("枫林九年制学校", "枫林镇", "nine"),
    ("马鞍九年制学校", "马鞍镇", "nine"),
    ("桃园九年制学校", "桃园镇", "nine"),
    ("龙潭九年制学校", "龙潭镇", "nine"),
    ("白鹤镇云台九年制学校", "白鹤镇", "nine"),
    ("青岚县城关第一小学", "城关镇", "town_primary"),
    ("青岚县城关第二小学", "城关镇", "town_primary"),
    ("青岚县城关第三小学", "城关镇", "town_primary"),
    ("青岚县实验小学", "城关镇", "town_primary"),
    ("石门镇中心小学", "石门镇", "central"),
    ("白鹤镇中心小学", "白鹤镇", "central"),
    ("柳溪镇中心小学", "柳溪镇", "central"),
    ("黄龙镇中心小学", "黄龙镇", "central"),
    ("清水镇中心小学", "清水镇", "central"),
    ("马鞍镇中心小学", "马鞍镇", "central"),
    ("城关镇五星小学", "城关镇", "village"),
    ("城关镇东坝小学", "城关镇", "village"),
    ("石门镇双河小学", "石门镇", "village"),
    ("石门镇麻坪小学", "石门镇", "village"),
    ("白鹤镇长岭小学", "白鹤镇", "village"),
    ("柳溪镇新庄小学", "柳溪镇", "village"),
    ("柳溪镇红岩小学", "柳溪镇", "village"),
    ("松坪镇杨家坝小学", "松坪镇", "village"),
    ("枫林镇高桥小学", "枫林镇", "village"),
    ("黄龙镇月河小学", "黄龙镇", "village"),
    ("清水镇龙王沟小学", "清水镇", "village"),
    ("马鞍镇金竹小学", "马鞍镇", "village"),
    ("桃园镇河口小学", "桃园镇", "village"),
    ("龙潭镇沙坪小学", "龙潭镇", "village"),
    # village primaries added after the first release: appended, so the schools above keep their ids
    ("白鹤镇茶园小学", "白鹤镇", "village"),
    ("黄龙镇庙坪村小学", "黄龙镇", "village"),
    ("清水镇核桃坪小学", "清水镇", "village"),
    ("松坪镇罗家湾小学", "松坪镇", "village"),
    ("枫林镇三合村小学", "枫林镇", "village"),
    ("马鞍镇青龙村小学", "马鞍镇", "village"),
    ("桃园镇油坊小学", "桃园镇", "village"),
    ("龙潭镇狮子口小学", "龙潭镇", "village"),
)

#: Village primaries that share a joint Party branch (联合党支部).
_JOINT_BRANCHES = {
    "城关镇五星小学": "城关镇村小联合党支部",
    "城关镇东坝小学": "城关镇村小联合党支部",
    "石门镇双河小学": "石门镇村小联合党支部",
    "石门镇麻坪小学": "石门镇村小联合党支部",
    "柳溪镇新庄小学": "柳溪镇村小联合党支部",
    "柳溪镇红岩小学": "柳溪镇村小联合党支部",
    "黄龙镇月河小学": "黄龙镇村小联合党支部",
    "黄龙镇庙坪村小学": "黄龙镇村小联合党支部",
    "龙潭镇沙坪小学": "龙潭镇村小联合党支部",
    "龙潭镇狮子口小学": "龙潭镇村小联合党支部",
}


@dataclass(frozen=True)
class School:
    """One school of the demo registry."""

    school_id: str
    name: str
    school_type: str
    township: str
    kind: str
    pupils: int
    staff: int
    party_members: int
    branch: str
    offset: float  # the kind's quality offset

    @property
    def small(self) -> bool:
        """A small Party organisation (village primary): meetings are harder to keep up."""
        return self.party_members < 10


def _rng(seed: int, *key: object) -> random.Random:
    """An independent random stream for ``key`` (string seeding is stable across versions)."""
    return random.Random(":".join(["evalkit-demo", str(seed), *map(str, key)]))


def _branch(name: str, kind: str, party_members: int) -> str:
    if name in _JOINT_BRANCHES:
        return _JOINT_BRANCHES[name]
    if kind == "high":
        return f"{name}党委"
    if party_members >= 30:
        return f"{name}党总支"
    return f"{name}党支部"


def build_county(seed: int = DEFAULT_SEED) -> list[School]:
    """The demo county's schools, sizes drawn from ``seed``."""
    out = []
    for i, (name, township, kind) in enumerate(_SCHOOLS, start=1):
        school_type, (p_lo, p_hi), per_staff, (m_lo, m_hi), offset = KINDS[kind]
        rng = _rng(seed, "registry", i)
        if kind == "village":  # most village primaries are small
            pupils = round((p_lo + (p_hi - p_lo) * rng.random() ** 1.8) / 10) * 10
        else:
            pupils = round(rng.uniform(p_lo, p_hi) / 10) * 10
        extra = 3 if kind == "village" else 0  # a village school needs a minimum of teachers
        staff = max(10, round(pupils / per_staff * rng.uniform(0.9, 1.1) + extra))
        size = (pupils - p_lo) / (p_hi - p_lo)
        members = round(m_lo + (m_hi - m_lo) * min(1.0, max(0.0, 0.7 * size + 0.3 * rng.random())))
        out.append(
            School(
                school_id=f"{i:03d}", name=name, school_type=school_type, township=township,
                kind=kind, pupils=pupils, staff=staff, party_members=members,
                branch=_branch(name, kind, members), offset=offset,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Latent quality and slowly changing state
# ---------------------------------------------------------------------------------------------

AREAS = "ABCDE"
LEVELS = ("none", "county", "city", "province")
LEVEL_CN = {"national": "国家级", "province": "省级", "city": "市级", "county": "县级", "none": "无"}
DRIFT = 0.05  # county-wide improvement of the latent quality per year
WALK_SD = 0.4
LEVEL = 0.63  # county-wide quality in the first year
BASE_SD = 1.15  # spread of quality between schools of a kind


@dataclass
class SchoolYear:
    """The latent state of one school in one year."""

    q: float
    area: dict[str, float]
    a7: str  # 立德树人示范校 level
    a7_year: int
    d4: str  # 清廉学校品牌 level
    d4_year: int
    c2: int  # 一肩挑 / 交叉任职
    c2_kind: str
    d1: int  # integrity-school plan adopted
    raters: int


@dataclass
class YearPlan:
    """County-level events of one year: honours, awards and vetoes by school id."""

    c7: dict[str, dict[str, int]] = field(default_factory=dict)
    c8: dict[str, int] = field(default_factory=dict)
    bonus: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # id → (item, value, note)
    vetoes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # id → (veto, note)


def _level_from(score: float, cuts: tuple[float, float, float]) -> str:
    if score > cuts[2]:
        return "province"
    if score > cuts[1]:
        return "city"
    if score > cuts[0]:
        return "county"
    return "none"


def _up(level: str) -> str:
    return LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _simulate_states(school: School, seed: int, years: Sequence[int]) -> dict[int, SchoolYear]:
    """The school's latent state in each of ``years`` (consecutive), drawn in year order."""
    rng = _rng(seed, "state", school.school_id)
    base = LEVEL + school.offset + rng.gauss(0.0, BASE_SD)
    area_offset = {a: rng.gauss(0.0, 0.45) for a in AREAS}
    states: dict[int, SchoolYear] = {}
    prev: SchoolYear | None = None
    for year in years:
        q = base if prev is None else prev.q + DRIFT + rng.gauss(0.0, WALK_SD)
        area = {a: q + area_offset[a] + rng.gauss(0.0, 0.2) for a in AREAS}
        if prev is None:
            a7 = _level_from(area["A"] + rng.gauss(0, 0.5), (0.0, 0.8, 1.6))
            d4 = _level_from(area["D"] + rng.gauss(0, 0.5), (0.6, 1.5, 2.3))
            a7_year = year - 1 - int(rng.random() * 4)
            d4_year = year - 1 - int(rng.random() * 2)
            c2 = int(rng.random() < _sigmoid(0.6 + 0.8 * area["C"]))
            c2_kind = "一肩挑" if rng.random() < 0.5 else "交叉任职"
            d1 = int(rng.random() < _sigmoid(0.9 + 1.2 * area["D"]))
        else:
            a7, a7_year, d4, d4_year = prev.a7, prev.a7_year, prev.d4, prev.d4_year
            if a7 != "province" and rng.random() < _sigmoid(-2.2 + 0.8 * area["A"]):
                a7, a7_year = _up(a7), year
            if d4 != "province" and rng.random() < _sigmoid(-1.8 + 0.8 * area["D"]):
                d4, d4_year = _up(d4), year
            c2, c2_kind = prev.c2, prev.c2_kind
            if not c2 and rng.random() < 0.3:
                c2 = 1
            d1 = prev.d1 or int(rng.random() < 0.55)
        raters = {"village": 3, "nine": 4, "middle": 4, "central": 4}.get(school.kind, 5)
        if rng.random() < 0.25:
            raters = max(3, raters - 1)
        state = SchoolYear(q, area, a7, a7_year, d4, d4_year, c2, c2_kind, d1, raters)
        states[year] = state
        prev = state
    return states


# ---------------------------------------------------------------------------------------------
# County-level events of a year
# ---------------------------------------------------------------------------------------------

_X1_NOTES = {
    "national": "{y}年{m}月获评全国中小学校党建工作示范校，见教育部党组文件",
    "province": "{y}年{m}月获评省级中小学党建示范校，见省委教育工委文件",
    "city": "{y}年{m}月获评市级党建示范校，见市委教育工委文件",
}
_X2_NOTES = (
    "党建引领“五育融合”经验在全市中小学基层党建工作推进会上交流推广",
    "“党建+课后服务”做法被市委教育工委转发推广",
    "“三联两当一满意”党建载体经验被县委组织部编入简报推广",
    "支部“双培养”工作法在全市教育系统推广",
)
_X3_NOTES = (
    "学校党建工作被省教育厅门户网站报道",
    "党员教师先进事迹在省级教育报刊刊发",
    "学校“红色研学”活动被省电视台新闻栏目报道",
    "党建带团建做法在省级党刊刊发",
)
_HONOUR_RANK = {"city": 1, "province": 2, "national": 3}
_VETO_NOTES = {
    "V1": (
        "{y}年{m}月一名教师体罚学生致伤，经县教育局调查属实，给予降级处分",
        "{y}年{m}月一名教师收受家长礼金并组织有偿补课，情节严重，经调查属实",
    ),
    "V2": (
        "副校长违规发放津补贴，{y}年{m}月受到党内严重警告处分（县纪委监委通报）",
        "总务主任挪用食堂经费，{y}年{m}月被移送司法机关",
    ),
    "V3": (
        "{y}年{m}月学校食堂发生集体食物中毒事件，学校负有管理责任",
        "{y}年{m}月校舍围墙倒塌致学生受伤，学校负有安全管理责任",
    ),
    "V4": (
        "{y}年{m}月学校微信公众号转发错误言论，造成不良影响，被县委网信办通报",
        "{y}年{m}月校外讲座未经审批传播错误观点，被县委宣传部通报",
    ),
}
#: Flag vetoes of each year, in a three-year cycle; V5 (parents' satisfaction < 50) is caused
#: through E7 in the middle year.
_VETO_CYCLE: tuple[tuple[str, ...], ...] = (("V1", "V3"), ("V2", "V5"), ("V4", "V1"))


def _weighted_pick(rng: random.Random, ids: list[str], weights: list[float]) -> str:
    total = sum(weights)
    x = rng.random() * total
    acc = 0.0
    for i, w in zip(ids, weights, strict=True):
        acc += w
        if x < acc:
            return i
    return ids[-1]


def _plan_year(
    seed: int,
    year: int,
    schools: list[School],
    states: dict[str, dict[int, SchoolYear]],
    honours: dict[str, int],
) -> YearPlan:
    """Awards (C7, C8), bonus items and vetoes of the county in ``year``.

    ``honours`` (school id → rank of its highest Party-building honour so far) is updated: a
    school is honoured again only at a higher level than before.
    """
    rng = _rng(seed, "county", year)
    plan = YearPlan()
    ids = [s.school_id for s in schools]
    q = {s.school_id: states[s.school_id][year].q for s in schools}
    c = {s.school_id: states[s.school_id][year].area["C"] for s in schools}
    talent = [s.staff**0.7 * math.exp(0.8 * c[s.school_id]) for s in schools]
    # new provincial / city teaching experts and subject leaders, across the county
    for item, n in (("province", rng.randint(1, 3)), ("city", rng.randint(6, 12))):
        for _ in range(n):
            sid = _weighted_pick(rng, ids, talent)
            plan.c7.setdefault(sid, {"province": 0, "city": 0})[item] += 1
    for _ in range(rng.randint(4, 8)):
        sid = _weighted_pick(rng, ids, talent)
        plan.c8[sid] = plan.c8.get(sid, 0) + 1

    # vetoes: among the weaker schools
    cycle = _VETO_CYCLE[(year - FIRST_YEAR) % len(_VETO_CYCLE)]
    weak = sorted(ids, key=lambda i: (q[i], i))[: max(4, len(ids) * 3 // 5)]
    taken: set[str] = set()
    for veto in cycle:
        pool = [i for i in weak if i not in taken]
        if veto == "V5":  # parents' dissatisfaction: a primary or nine-year school
            by_id = {s.school_id: s for s in schools}
            pool = [i for i in pool if by_id[i].kind in ("village", "central", "nine")] or pool
        sid = pool[int(rng.random() * len(pool))]
        taken.add(sid)
        if veto == "V5":
            plan.vetoes.setdefault(sid, []).append(("V5", ""))
            continue
        note = rng.choice(_VETO_NOTES[veto]).format(y=year, m=rng.randint(3, 11))
        plan.vetoes.setdefault(sid, []).append((veto, note))

    # bonus items: among the stronger schools without a veto
    strong = [i for i in sorted(ids, key=lambda i: (-q[i], i)) if i not in taken][:16]
    for sid in strong:
        items: list[tuple[str, str, str]] = []
        r = rng.random()
        if r < 0.03:
            level = "national"
        elif r < 0.12:
            level = "province"
        elif r < 0.32:
            level = "city"
        else:
            level = ""
        rank = _HONOUR_RANK.get(level, 0)
        if rank > honours.get(sid, 0):
            honours[sid] = rank
            items.append(("X1", level, _X1_NOTES[level].format(y=year, m=rng.randint(3, 12))))
        if rng.random() < 0.15:
            items.append(("X2", "1", rng.choice(_X2_NOTES)))
        if rng.random() < 0.2:
            n = 1 if rng.random() < 0.7 else 2
            items.append(("X3", str(n), rng.choice(_X3_NOTES) + (f"，共{n}篇" if n > 1 else "")))
        if items:
            plan.bonus[sid] = items
    return plan


# ---------------------------------------------------------------------------------------------
# Observations of one school in one year
# ---------------------------------------------------------------------------------------------


def fmt_ratio(x: float) -> str:
    """A ratio rounded to 3 decimals, without trailing zeros: ``0.950`` → ``"0.95"``.

    >>> fmt_ratio(0.95), fmt_ratio(1.0), fmt_ratio(0.8333)
    ('0.95', '1', '0.833')
    """
    text = f"{min(1.0, max(0.0, x)):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def fmt_score(x: float) -> str:
    """A survey score (0–100) to 1 decimal: ``88.25`` → ``"88.2"``."""
    return f"{min(100.0, max(0.0, x)):.1f}"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}".rstrip("0").rstrip(".") + "%"


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _ri(x: float) -> int:
    """Round half up (deterministic for our purposes)."""
    return math.floor(x + 0.5)


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's Poisson sampler (small ``lam``)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _rating(score: float) -> str:
    if score >= 0.7:
        return "A"
    if score >= -0.45:
        return "B"
    if score >= -1.5:
        return "C"
    return "D"


Row = tuple[str, str, str, str, str, str, str, str]

_RATING_NOTES = {
    "A6": {
        "A": ("“333”德育机制台账完整，家校社协同有特色", "三个课堂联动，德育活动序列化"),
        "C": ("第二课堂活动记录不完整", "家校社协同育人机制不健全"),
        "D": ("德育工作无年度计划，活动流于形式",),
    },
    "B2": {
        "A": ("党务档案规范，党员活动室功能齐全", "对照标准化清单逐项达标"),
        "C": ("党务档案不规范，部分会议记录缺失", "党员活动阵地建设不达标"),
        "D": ("标准化清单多项未落实，党务资料缺失严重",),
    },
    "C1": {
        "A": ("党组织会议、校长办公会议事规则健全，执行规范",),
        "C": ("议事规则未及时修订", "个别“三重一大”事项未先经党组织研究"),
        "D": ("党组织会议制度未建立，重大事项由校长个人决定",),
    },
}


class _Rows:
    """Collects the rows of one school in one year in a stable order."""

    def __init__(self, school_id: str, year: int):
        self.sid, self.year, self.rows = school_id, str(year), []  # type: ignore[var-annotated]

    def add(
        self, ind: str, source: str, value: str, evidence: str = "", item: str = "", rater: str = ""
    ) -> None:
        self.rows.append((self.sid, self.year, ind, item, source, rater, value, evidence))

    def pair(self, ind: str, insp: str, self_value: str, note: str = "", self_note: str = "") -> None:
        self.add(ind, "self", self_value, self_note)
        self.add(ind, "inspection", insp, note)


def _school_year_rows(
    school: School, year: int, st: SchoolYear, plan: YearPlan, seed: int
) -> list[Row]:
    rng = _rng(seed, "obs", school.school_id, year)
    g = rng.gauss
    r = rng.random
    out = _Rows(school.school_id, year)
    vetoes = {v for v, _ in plan.vetoes.get(school.school_id, [])}
    small = school.small

    def maybe(p: float, text: str | Callable[[], str]) -> str:
        if r() >= p:
            return ""
        return text() if callable(text) else text

    def self_count(v: int, hi: int) -> str:
        x = r()
        return str(min(hi, max(v, v + (0 if x < 0.55 else 1 if x < 0.88 else 2))))

    def self_fewer(v: int) -> str:
        return str(max(0, v - (1 if v and r() < 0.5 else 0)))

    def self_ratio(v: float) -> str:
        return fmt_ratio(min(1.0, v + r() * 0.04))

    def self_yes(v: int) -> str:
        return "1" if v or r() < 0.5 else "0"

    def self_note() -> str:
        return maybe(0.04, lambda: rng.choice(("见党建工作台账", "见自评报告及佐证材料", "佐证材料已上传")))

    def ratings(ind: str, z: float) -> None:
        out.add(ind, "self", _rating(z + 0.45 + g(0, 0.3)), self_note())
        for k in range(1, st.raters + 1):
            label = _rating(z + g(0, 0.45))
            notes = _RATING_NOTES[ind].get(label, ())
            note = rng.choice(notes) if notes and r() < (0.5 if label in "CD" else 0.15) else ""
            out.add(ind, "inspection", label, note, rater=f"R{k}")

    def level(ind: str, lv: str, since: int, what: str) -> None:
        note = ""
        if lv != "none":
            org = {"province": "省教育厅", "city": "市教育局", "county": "县教育局"}[lv]
            note = f"{since}年被命名为{LEVEL_CN[lv]}{what}，见{org}命名文件"
        out.pair(ind, lv, lv, note, self_note())

    # -- A 思想强基 ------------------------------------------------------------------------------
    z = st.area["A"]
    a1 = int(_clip(_ri(11.6 + 1.2 * z - (1.8 if small else 0) + g(0, 1.0)), 6, 14))
    if a1 < 12:
        note = f"中心组学习记录{a1}次，{12 - a1}个月未开展集中学习"
    else:
        note = maybe(0.2, f"查阅中心组学习记录，全年集中学习{a1}次")
    out.pair("A1", str(a1), self_count(a1, 14), note, self_note())

    committee = int(_clip(_ri(10.6 + 1.1 * z - (0.8 if small else 0) + g(0, 1.0)), 8, 12))
    assembly = int(_clip(_ri(3.7 + 0.4 * z + g(0, 0.4)), 3, 4))
    lessons = int(_clip(_ri(3.4 + 0.8 * z + g(0, 0.8)), 2, 5))
    a2 = (committee + assembly + min(lessons, 4)) / 20
    note = maybe(0.35, f"支委会{committee}次、党员大会{assembly}次、党课{lessons}次")
    out.pair("A2", fmt_ratio(a2), self_ratio(a2), note, self_note())

    a3 = int(_clip(_ri(11.4 + 0.9 * z - (1.3 if small else 0) + g(0, 0.8)), 9, 12))
    note = maybe(0.6, f"主题党日记录{a3}次，寒暑假月份未开展") if a3 < 12 else ""
    out.pair("A3", str(a3), self_count(a3, 12), note, self_note())

    a4 = _clip(0.925 + 0.04 * z + g(0, 0.025 if small else 0.015), 0.8, 1.0)
    note = maybe(0.15, lambda: f"抽查学习签到册，党员参学率{_pct(round(a4, 3))}")
    out.pair("A4", fmt_ratio(a4), self_ratio(a4), note, self_note())

    a5 = int(_clip(_ri(4.3 + 1.1 * z - (1 if small else 0) + g(0, 1.0)), 1, 9))
    note = maybe(0.2, f"开展专题宣讲{a5}次，含“青岚教育大讲堂”{max(1, a5 // 2)}期")
    out.pair("A5", str(a5), self_count(a5, 9), note, self_note())

    ratings("A6", z)
    level("A7", st.a7, st.a7_year, "立德树人示范校")

    a8 = min(3, _poisson(rng, 0.12 * math.exp(-0.7 * z)))
    if "V4" in vetoes:
        a8 = max(a8, 2)
    a8_kinds = ["宣传栏内容未经审核", "讲座报告会未履行审批备案", "班级群管理不规范", "网站信息发布无审核"]
    note = "、".join(rng.sample(a8_kinds, min(a8, 2))) if a8 else ""
    out.pair("A8", str(a8), self_fewer(a8), note, self_note())

    # -- B 夯基垒台 ------------------------------------------------------------------------------
    z = st.area["B"]
    b1 = int(r() < _sigmoid(2.6 + 1.4 * z))
    note = "" if b1 else rng.choice(("支委会任期已满未按期换届", "支部委员缺额未及时增补"))
    out.pair("B1", str(b1), self_yes(b1), note, self_note())

    ratings("B2", z)

    b3 = min(6, _poisson(rng, 0.8 * math.exp(-0.6 * z)))
    note = f"县委教育工委专项督查反馈问题{b3}个" if b3 else ""
    out.pair("B3", str(b3), self_fewer(b3), note, self_note())

    tasks = 8 + int(r() * 8)
    done = int(_clip(_ri(tasks * _clip(0.9 + 0.07 * z + g(0, 0.05), 0.5, 1.0)), 0, tasks))
    note = maybe(0.3, f"年度任务{tasks}项，完成{done}项")
    out.pair("B4", fmt_ratio(done / tasks), self_ratio(done / tasks), note, self_note())

    b5 = int(_clip(_ri(6.8 + 1.4 * z - (2.2 if small else 0) + g(0, 1.2)), 2, 12))
    note = maybe(0.25, f"开展“旗帜领航先锋行”等主题活动{b5}次")
    out.pair("B5", str(b5), self_count(b5, 12), note, self_note())

    b6 = min(8, _poisson(rng, _clip(0.4 + school.staff / 70 + 0.5 * z, 0.15, 6.0)))
    if b6:
        note = maybe(0.4, f"确定入党积极分子{b6}名")
    else:
        note = "党员和青年教师少，当年未确定入党积极分子" if small else ""
    out.pair("B6", str(b6), self_count(b6, 8) if r() < 0.3 else str(b6), note, self_note())

    b7 = int(r() < _sigmoid(3.4 + z))
    note = "" if b7 else rng.choice(("个别党员党费未按月缴纳", "党费缴纳基数未按规定调整"))
    out.pair("B7", str(b7), self_yes(b7), note, self_note())

    # -- C 提质强能 ------------------------------------------------------------------------------
    z = st.area["C"]
    ratings("C1", z)

    if not st.c2:
        note = "书记、校长分设，班子成员未交叉任职"
    else:
        note = "书记、校长一肩挑" if st.c2_kind == "一肩挑" else "两委班子双向进入、交叉任职"
    out.pair("C2", str(st.c2), str(st.c2), maybe(0.5, note) if st.c2 else note, self_note())

    c3 = int(r() < _sigmoid(2.7 + z))
    note = "" if c3 else rng.choice(("中层干部选任民主推荐材料不全", "中层干部任前公示时间不足"))
    out.pair("C3", str(c3), self_yes(c3), note, self_note())

    unsigned = _ri(school.staff * _clip(0.04 - 0.03 * z + g(0, 0.02), 0.0, 0.1)) if r() > 0.45 else 0
    c4 = (school.staff - unsigned) / school.staff
    note = f"教职工{school.staff}人，签订承诺书{school.staff - unsigned}份" if unsigned else ""
    out.pair("C4", fmt_ratio(c4), fmt_ratio(1.0) if r() < 0.7 else fmt_ratio(c4), note, self_note())

    warnings = min(2, _poisson(rng, 0.12 * math.sqrt(school.staff / 40) * math.exp(-0.5 * z)))
    violations = 1 if "V1" in vetoes else int(r() < 0.01)
    w_note = rng.choice(("一名教师有偿补课被约谈提醒", "一名教师言行失当受到警示")) if warnings else ""
    v_note = ("见一票否决事项" if "V1" in vetoes else "查实教师违规收受家长礼品") if violations else ""
    out.add("C5", "self", self_fewer(warnings), item="warning")
    out.add("C5", "self", "0" if violations and r() < 0.5 else str(violations), item="violation")
    out.add("C5", "inspection", str(warnings), w_note, item="warning")
    out.add("C5", "inspection", str(violations), v_note, item="violation")

    principals = 1 if school.staff < 60 or r() < 0.4 else 2
    managers = int(_clip(_ri(2 + school.staff / 50 + g(0, 0.8)), 1 if small else 2, 6))
    teachers = _ri(school.staff * _clip(0.2 + 0.07 * z + g(0, 0.05), 0.08, 0.4))
    c6 = min(1.0, (principals + managers + teachers) / school.staff)
    note = maybe(0.3, f"校长{principals}人、中层{managers}人、教师{teachers}人参训，教职工{school.staff}人")
    out.pair("C6", fmt_ratio(c6), self_ratio(c6), note, self_note())

    c7 = plan.c7.get(school.school_id, {"province": 0, "city": 0})
    for item in ("province", "city"):
        out.add("C7", "self", str(c7[item]), item=item)
    for item, cn in (("province", "省级"), ("city", "市级")):
        n = c7[item]
        note = f"新增{cn}教学能手{n}人，见{'省教育厅' if item == 'province' else '市教育局'}文件" if n else ""
        out.add("C7", "inspection", str(n), note, item=item)

    c8 = plan.c8.get(school.school_id, 0)
    out.pair("C8", str(c8), str(c8), f"新增市级学科带头人{c8}人" if c8 else "", self_note())

    c9 = _clip(87.0 + 3.5 * z + g(0, 2.5), 55.0, 99.5)
    note = maybe(0.3, lambda: f"参评教职工{_ri(school.staff * (0.85 + 0.15 * r()))}人")
    out.add("C9", "survey", fmt_score(c9), note)

    # -- D 清廉教育 ------------------------------------------------------------------------------
    z = st.area["D"]
    note = "" if st.d1 else rng.choice(("未制定年度重点任务清单", "清廉学校建设方案未经党组织研究"))
    out.pair("D1", str(st.d1), self_yes(st.d1), note, self_note())

    d2 = int(_clip(_ri(4.1 + 1.4 * z + g(0, 1.0)), 2, 8))
    note = maybe(0.25, f"开展廉洁主题班会、升旗仪式讲话等活动{d2}次")
    out.pair("D2", str(d2), self_count(d2, 8), note, self_note())

    joined = _ri(school.pupils * _clip(0.8 + 0.08 * z + g(0, 0.06), 0.4, 1.0))
    note = maybe(0.25, f"参与学生{joined}人，在校生{school.pupils}人")
    out.pair("D3", fmt_ratio(joined / school.pupils), self_ratio(joined / school.pupils), note, self_note())

    level("D4", st.d4, st.d4_year, "清廉学校建设品牌示范校")

    d5 = int(r() < _sigmoid(2.6 + z))
    note = "" if d5 else rng.choice(("校务公开栏更新不及时", "“三重一大”事项会议记录不完整"))
    out.pair("D5", str(d5), self_yes(d5), note, self_note())

    d6 = min(2, _poisson(rng, 0.04 * math.exp(-0.6 * z)))
    if "V2" in vetoes:
        d6 = max(d6, 1)
    note = rng.choice(("食堂采购未按规定比价", "违规收取学生资料费，已清退")) if d6 else ""
    out.pair("D6", str(d6), self_fewer(d6), note, self_note())

    # -- E 成长护航 ------------------------------------------------------------------------------
    z = st.area["E"]
    e1 = _clip(0.965 + 0.02 * z + g(0, 0.012) - (0.035 if school.kind == "village" else 0), 0.85, 1.0)
    e1_notes = ("音乐、美术课时不足", "缺专职体育教师，体育课时不足")
    note = rng.choice(e1_notes) if e1 < 0.95 and r() < 0.5 else ""
    out.pair("E1", fmt_ratio(e1), self_ratio(e1), note, self_note())

    assessed = max(8, _ri(school.staff * 0.8))
    passed = _ri(assessed * _clip(0.8 + 0.07 * z + g(0, 0.04), 0.5, 1.0))
    note = maybe(0.25, f"“课堂革命”达标验收教师{assessed}人，达标{passed}人")
    out.pair("E2", fmt_ratio(passed / assessed), self_ratio(passed / assessed), note, self_note())

    served = math.floor(school.pupils * _clip(0.8 + 0.06 * z + g(0, 0.04), 0.6, 0.95))
    note = maybe(0.25, f"参加课后服务学生{served}人，在校生{school.pupils}人")
    out.pair("E3", fmt_ratio(served / school.pupils), self_ratio(served / school.pupils), note, self_note())

    e4 = int(_clip(_ri(3.3 + 0.7 * z + g(0, 0.6)), 2, 4))
    held = ["科技节", "艺术节", "体育节", "读书节"]
    note = maybe(0.3, "举办" + "、".join(held[:e4]) if e4 < 4 else "科技节、艺术节、体育节、读书节均已举办")
    out.pair("E4", str(e4), self_count(e4, 4), note, self_note())

    e5 = int(r() < _sigmoid(2.3 + 1.2 * z))
    note = "" if e5 else "劳动课被其他学科挤占，每周不足1课时"
    out.pair("E5", str(e5), self_yes(e5), note, self_note())

    e6 = int(_clip(_ri(1.9 + 0.9 * z + g(0, 0.8)), 1, 4))
    e6_notes = ("与镇农业园区共建劳动实践基地", "依托县红色教育基地开设研学课程", "校园种植园开设劳动课程")
    note = maybe(0.25, rng.choice(e6_notes))
    out.pair("E6", str(e6), self_count(e6, 4), note, self_note())

    if "V5" in vetoes:
        e7, note = 45.0 + 4.5 * r(), "家长对课后服务收费和食堂管理意见集中"
    else:
        e7, note = _clip(89.0 + 3.0 * z + g(0, 2.5), 60.0, 99.5), ""
    out.add("E7", "survey", fmt_score(e7), note or maybe(0.3, f"发放家长问卷{_ri(school.pupils * 0.3)}份"))

    # -- bonus and vetoes -----------------------------------------------------------------------
    for item, value, note in plan.bonus.get(school.school_id, []):
        out.add(item, "inspection", value, note)
    for veto, note in sorted(plan.vetoes.get(school.school_id, [])):
        if veto in FLAG_VETO_IDS:
            out.add(veto, "inspection", "1", note)
    return out.rows


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to a hidden temporary file next to ``path``, then rename it over
    ``path`` (usual permissions: 0o666 minus the umask)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def simulate(
    seed: int = DEFAULT_SEED, years: Sequence[int] = DEFAULT_YEARS
) -> tuple[list[School], dict[int, list[Row]]]:
    """The county and its observation rows per year (as text cells), without writing files."""
    wanted = sorted(set(int(y) for y in years))
    if not wanted:
        raise ValueError("no years to generate")
    span = list(range(min(FIRST_YEAR, wanted[0]), wanted[-1] + 1))
    schools = build_county(seed)
    states = {s.school_id: _simulate_states(s, seed, span) for s in schools}
    honours: dict[str, int] = {}
    plans = {year: _plan_year(seed, year, schools, states, honours) for year in span}
    rows: dict[int, list[Row]] = {}
    for year in wanted:
        plan = plans[year]
        rows[year] = [
            row for s in schools for row in _school_year_rows(s, year, states[s.school_id][year], plan, seed)
        ]
    return schools, rows


def generate(
    out_dir: str | Path, seed: int = DEFAULT_SEED, years: Sequence[int] = DEFAULT_YEARS
) -> list[Path]:
    """Write the demo county into ``out_dir``: ``registry.csv`` and ``observations_<year>.csv``.

    Files are UTF-8 with ``\\n`` line endings, rows in a stable order (school, indicator in the
    framework's order, source, rater/item), each written atomically. Other files in ``out_dir``
    (such as ``messy/``) are left alone. Returns the paths written, registry first.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    schools, rows = simulate(seed, years)
    first = min(rows)
    registry = [
        (s.school_id, s.name, s.school_type, s.township, s.pupils, s.staff, s.party_members, s.branch,
         first, "")
        for s in schools
    ]
    paths = [out / "registry.csv"]
    _write_atomic(paths[0], _csv_text(REGISTRY_COLUMNS, registry))
    for year, year_rows in rows.items():
        path = out / f"observations_{year}.csv"
        _write_atomic(path, _csv_text(OBSERVATION_COLUMNS, year_rows))
        paths.append(path)
    return paths


def cli_generate(args: argparse.Namespace) -> int:
    """``evalkit demo generate``: rebuild the demo files (``--seed``, ``--output``)."""
    from evalkit.demo import DEMO_DATA_DIR

    seed = DEFAULT_SEED if getattr(args, "seed", None) is None else int(args.seed)
    output = getattr(args, "output", None)
    out_dir = Path(output) if output else DEMO_DATA_DIR
    paths = generate(out_dir, seed=seed)
    from evalkit.demo.messy import make_messy_copy

    make_messy_copy(out_dir, out_dir / "messy")  # the deliberately messy copy the intake tests use
    paths += sorted((out_dir / "messy").iterdir())
    for p in paths:
        print(p)
    print(f"演示数据已生成（种子 {seed}）/ demo data written: {len(paths)} files in {out_dir}")
    return 0
