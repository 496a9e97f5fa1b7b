"""The monthly exam (考核), as pure rules: periods, the rates and where each comes from, the plus and
minus items (双加双减), the composite score, the ranking with its minimum sample, the surge rule of
the early warning (未诉先办) and the ranking of the month's focus candidates (每月一题).

The read model counts (readmodel/assessment.py aggregates in SQL); everything here turns counts
into figures, so PostgreSQL and SQLite give the same ones."""

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from pydantic import BaseModel

from domain.deadlines.calendar import CHINA_TZ
from domain.directory import Directory
from domain.policy import AssessmentItem, AssessmentRule, FocusRule, Rate, SurgeRule
from domain.vocabulary import Tier, UnitKind

# -- periods ---------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    day = "day"
    week = "week"  # ISO week, Monday first
    month = "month"
    quarter = "quarter"


class Period(BaseModel):
    """A calendar period in Beijing time; `start`/`end` are the UTC instants the read model compares."""

    kind: PeriodKind
    first: date  # first day

    @property
    def label(self) -> str:
        d = self.first
        if self.kind == PeriodKind.day:
            return d.isoformat()
        if self.kind == PeriodKind.week:
            y, w, _ = d.isocalendar()
            return f"{y}-W{w:02d}"
        if self.kind == PeriodKind.month:
            return f"{d.year}-{d.month:02d}"
        return f"{d.year}-Q{(d.month - 1) // 3 + 1}"

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    def next(self) -> "Period":
        d = self.first
        if self.kind == PeriodKind.day:
            return Period(kind=self.kind, first=d + timedelta(days=1))
        if self.kind == PeriodKind.week:
            return Period(kind=self.kind, first=d + timedelta(days=7))
        months = 1 if self.kind == PeriodKind.month else 3
        m = d.month - 1 + months
        return Period(kind=self.kind, first=date(d.year + m // 12, m % 12 + 1, 1))

    def previous(self) -> "Period":
        d = self.first
        if self.kind == PeriodKind.day:
            return Period(kind=self.kind, first=d - timedelta(days=1))
        if self.kind == PeriodKind.week:
            return Period(kind=self.kind, first=d - timedelta(days=7))
        months = 1 if self.kind == PeriodKind.month else 3
        m = d.month - 1 - months
        return Period(kind=self.kind, first=date(d.year + m // 12, m % 12 + 1, 1))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), CHINA_TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    @classmethod
    def containing(cls, kind: PeriodKind, at: datetime) -> "Period":
        d = at.astimezone(CHINA_TZ).date()
        if kind == PeriodKind.day:
            return cls(kind=kind, first=d)
        if kind == PeriodKind.week:
            return cls(kind=kind, first=d - timedelta(days=d.weekday()))
        if kind == PeriodKind.month:
            return cls(kind=kind, first=d.replace(day=1))
        return cls(kind=kind, first=date(d.year, (d.month - 1) // 3 * 3 + 1, 1))

    @classmethod
    def last_complete(cls, kind: PeriodKind, at: datetime) -> "Period":
        """The period a report produced at `at` covers: the one before the current one."""
        return cls.containing(kind, at).previous()

    @classmethod
    def parse(cls, label: str) -> "Period":
        """`2026-11-22`, `2026-W47`, `2026-11` or `2026-Q4`."""
        label = label.strip()
        try:
            if m := re.fullmatch(r"(\d{4})-W(\d{2})", label):
                return cls(kind=PeriodKind.week, first=date.fromisocalendar(int(m[1]), int(m[2]), 1))
            if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
                return cls(kind=PeriodKind.quarter, first=date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
            if re.fullmatch(r"\d{4}-\d{2}", label):
                return cls(kind=PeriodKind.month, first=date.fromisoformat(f"{label}-01"))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", label):
                return cls(kind=PeriodKind.day, first=date.fromisoformat(label))
        except ValueError:
            pass
        raise ValueError(f"{label!r} is not a period: write 2026-11-22, 2026-W47, 2026-11 or 2026-Q4")


# -- what the read model keeps for a ticket --------------------------------------------------


def kept(met_at: datetime | None, due_at: datetime | None, breached_at: datetime | None) -> bool | None:
    """Whether a clock was kept: True met in time, False breached (met late or still running past
    its deadline), None not decided yet (or no such clock)."""
    if due_at is None:
        return None
    if breached_at is not None:
        return False
    if met_at is not None:
        return met_at <= due_at
    return None


_COMMUNITY = re.compile(r"([\u4e00-\u9fa5A-Za-z0-9]{2,16}?)(社区|小区|花园|家园|新村|村)")
_PLACE_PREFIX = re.compile(r"街道|镇|乡|路|街|号|楼|区|市|县")


def community_of(address: str | None) -> str | None:
    """The community (社区 / 小区 / 村) an address names, for the early warning's smallest area:
    "市南区八大峡街道团岛社区12号楼" -> "团岛社区"."""
    m = _COMMUNITY.search(address or "")
    if not m:
        return None
    stem = _PLACE_PREFIX.split(m.group(1))[-1]
    return stem + m.group(2) if len(stem) >= 2 else None


# -- who is assessed ------------------------------------------------------------------------


class Group(StrEnum):
    """Each ranked against its own tier (分类排名)."""

    street = "street"  # street offices and towns, on the tickets of their area (属地)
    district = "district"  # districts and county-level cities, on the tickets of their area
    department = "department"  # city departments: the tickets they supervise or lead (部门 + 行业)
    utility = "utility"  # public-service companies: the tickets they lead

    @property
    def role(self) -> str:
        """Which side of the dual assessment the group is (for plus and minus items)."""
        return "supervisor" if self == Group.department else "locality"


def group_of(kind: UnitKind, tier: Tier) -> Group | None:
    if kind == UnitKind.locality:
        return Group.street if tier == Tier.street else Group.district if tier == Tier.district else None
    if kind == UnitKind.sector:
        return Group.department
    if kind == UnitKind.utility:
        return Group.utility
    return None


def members(directory: Directory, group: Group) -> dict[str, str]:
    """The units of a group: id -> name."""
    return {u.id: u.name for u in directory.units.values() if group_of(u.kind, u.tier) == group}


# -- counts, rates, points, score ----------------------------------------------------------------


class Counts(BaseModel):
    """What SQL counts for one unit and period (tickets ruled out of the assessment are not here)."""

    unit: str
    assessed: int = 0  # dispatched tickets received in the period
    previous: int = 0  # the same, in the period before (for the decline rate)
    response_met: int = 0
    response_due: int = 0  # tickets whose response clock is decided
    resolved: int = 0
    resolution_asked: int = 0  # tickets with the citizen's word on resolution
    satisfied: int = 0
    satisfaction_asked: int = 0  # tickets with a satisfaction answer (unreachable: as the pack says)
    on_time: int = 0
    completion_due: int = 0
    overdue: int = 0
    urged: int = 0
    repeat: int = 0
    rehandled: int = 0
    praise: int = 0


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def decline_rate(current: int, previous: int) -> float | None:
    """诉求下降率: (last period − this period) / last period; None with no last period."""
    return round((previous - current) / previous, 4) if previous else None


def rates(c: Counts) -> dict[Rate, float | None]:
    return {
        "response": _share(c.response_met, c.response_due),
        "resolution": _share(c.resolved, c.resolution_asked),
        "satisfaction": _share(c.satisfied, c.satisfaction_asked),
        "on_time": _share(c.on_time, c.completion_due),
        "decline": decline_rate(c.assessed, c.previous),
    }


def rate_score(rate: Rate, value: float) -> float:
    """A rate as 0..100 points. The decline rate: requests held steady 50, halved 100, doubled 0."""
    if rate == "decline":
        return max(0.0, min(100.0, 50 + 100 * value))
    return 100 * value


class ItemPoints(BaseModel):
    name: str
    fact: str
    count: float
    points: float


def growth_steps(c: Counts) -> float:
    """同类诉求增长率 in steps of 10 % (0 when the requests did not grow)."""
    if not c.previous or c.assessed <= c.previous:
        return 0.0
    return float(int((c.assessed - c.previous) / c.previous * 10))


def item_points(items: list[AssessmentItem], c: Counts, role: str) -> list[ItemPoints]:
    out = []
    for item in items:
        if item.applies_to not in ("both", role):
            continue
        count = growth_steps(c) if item.fact == "similar_growth" else float(getattr(c, item.fact))
        raw = count * item.points
        out.append(
            ItemPoints(name=item.name, fact=item.fact, count=count, points=round(max(-item.cap, min(item.cap, raw)), 2))
        )
    return out


def composite(values: dict[Rate, float | None], weights: dict[Rate, float]) -> float | None:
    """The weighted score of the rates that have figures (a weight without a figure is shared out
    among the others); None when no weighted rate has a figure."""
    figures = {r: v for r, v in values.items() if v is not None}
    present = {r: w for r, w in weights.items() if w > 0 and r in figures}
    total = sum(present.values())
    if not total:
        return None
    return round(sum(rate_score(r, figures[r]) * w for r, w in present.items()) / total, 2)


class Score(BaseModel):
    unit: str
    name: str
    group: Group
    assessed: int
    rates: dict[str, float | None]
    rate_score: float | None  # the weighted rates, 0..100
    items: list[ItemPoints]
    points: float  # the plus and minus items together
    score: float | None  # composite: rate score + points
    counts: Counts
    ranked: bool = False  # False: below the minimum sample (listed after the ranked ones)
    rank: int | None = None
    previous_rank: int | None = None
    previous_score: float | None = None
    rank_change: int | None = None  # > 0: moved up
    score_change: float | None = None


def score(c: Counts, name: str, group: Group, rule: AssessmentRule) -> Score:
    values = rates(c)
    base = composite(values, rule.weights)
    items = item_points(rule.items, c, group.role)
    points = round(sum(i.points for i in items), 2)
    return Score(
        unit=c.unit,
        name=name,
        group=group,
        assessed=c.assessed,
        rates=dict(values),
        rate_score=base,
        items=items,
        points=points,
        score=None if base is None else round(base + points, 2),
        counts=c,
    )


def rank(scores: list[Score], min_sample: int, previous: list[Score] | None = None) -> list[Score]:
    """Ranked best first; a unit with fewer than `min_sample` assessed tickets (or no score) gets
    no rank and is listed after the ranked ones. Equal scores share a rank. With the previous
    period's ranking, each unit carries its change."""
    eligible = sorted(
        (s for s in scores if s.assessed >= min_sample and s.score is not None),
        key=lambda s: (-s.score, -s.assessed, s.unit),  # type: ignore[operator]
    )
    rest = sorted((s for s in scores if s not in eligible), key=lambda s: (-s.assessed, s.unit))
    last_score, last_rank = None, 0
    for i, s in enumerate(eligible, 1):
        s.ranked = True
        s.rank = last_rank if s.score == last_score else i
        last_score, last_rank = s.score, s.rank
    if previous is not None:
        before = {p.unit: p for p in previous}
        for s in eligible + rest:
            p = before.get(s.unit)
            if p is None:
                continue
            s.previous_rank, s.previous_score = p.rank, p.score
            if s.rank is not None and p.rank is not None:
                s.rank_change = p.rank - s.rank
            if s.score is not None and p.score is not None:
                s.score_change = round(s.score - p.score, 2)
    return eligible + rest


# -- early warning --------------------------------------------------------------------------


def expected_in_window(baseline_count: int, rule: SurgeRule) -> float:
    """The place's own average for one window, from its count over the baseline before it."""
    windows = max(1.0, (rule.baseline.seconds() - rule.window.seconds()) / rule.window.seconds())
    return baseline_count / windows


def is_surge(count: int, baseline_count: int, rule: SurgeRule) -> bool:
    """At least `min_count` in the window, and at least `ratio` times the place's own average."""
    return count >= rule.min_count and count >= rule.ratio * expected_in_window(baseline_count, rule)


def warning_key(category: str, street: str | None, community: str | None) -> str:
    return f"{category}|{street or ''}|{community or ''}"


# -- monthly focus ---------------------------------------------------------------------------


def focus_score(volume: int, repeats: int, unsatisfied: int, rule: FocusRule) -> float:
    return round(volume * rule.volume + repeats * rule.repeat + unsatisfied * rule.unsatisfied, 2)


# -- exclusions -----------------------------------------------------------------------------


class ExclusionReason(StrEnum):
    unreasonable = "unreasonable"  # 无理诉求
    malicious = "malicious"  # 恶意诉求
    enterprise_clearing = "enterprise_clearing"  # 为企正名: a complaint against a company proved unfounded
    other = "other"


# -- contracts between the assessment workflows and activities -------------------------------------


class ReportKind(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"

    @property
    def period_kind(self) -> PeriodKind:
        return {"daily": PeriodKind.day, "weekly": PeriodKind.week, "monthly": PeriodKind.month}[self.value]


class ReportInput(BaseModel):
    """What a report schedule starts: the kind; the period defaults to the last complete one."""

    kind: ReportKind
    period: str | None = None
    produced_by: str = "schedule"


class ReportReceipt(BaseModel):
    id: int
    kind: ReportKind
    period: str
    tickets: int


class ScanInput(BaseModel):
    at: datetime | None = None  # the end of the window; default: when the scan runs


class RaisedWarning(BaseModel):
    id: int
    recipients: list[str]  # the district and the sector supervisor
    message: str


class WarningDelivery(BaseModel):
    warning: int
    unit: str
    message: str
