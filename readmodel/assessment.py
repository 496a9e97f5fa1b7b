"""The assessment's questions of the read model, aggregated in SQL (one pass per ranking over the
period's rows, on the (unit column, received_at) indexes), the same on PostgreSQL and SQLite:
no date functions, booleans compared with IS TRUE / IS FALSE, periods as UTC bounds."""

from collections import Counter
from datetime import datetime, timedelta
from typing import Literal, get_args

import sqlalchemy as sa
from sqlalchemy import ColumnElement, SQLColumnExpression, and_, func, literal, or_, union_all
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col, select

from domain.assessment import (
    Counts,
    Group,
    Period,
    PeriodKind,
    Score,
    expected_in_window,
    focus_score,
    is_surge,
    members,
    rank,
    score,
    warning_key,
)
from domain.directory import Directory
from domain.policy import AssessmentRule, SurgeRule
from readmodel.db import aware
from readmodel.tables import (
    AssessmentExclusionRow,
    EarlyWarningRow,
    MonthlyFocusRow,
    TicketRow,
)

T = TicketRow
# The figures a drill-down can list the tickets of (the API's `metric` parameter takes the same).
Metric = Literal[
    "volume",
    "response",
    "resolution",
    "satisfaction",
    "on_time",
    "overdue",
    "urged",
    "repeat",
    "rehandled",
    "praise",
    "excluded",
]
METRICS: tuple[str, ...] = get_args(Metric)


def _not_excluded() -> ColumnElement[bool]:
    return col(T.number).not_in(select(col(AssessmentExclusionRow.number)))


def _dispatched() -> ColumnElement[bool]:
    """Assessed tickets: dispatched to a unit (a direct answer or an emergency transfer is not)."""
    return col(T.lead_unit).is_not(None)


def _response_column(rule: AssessmentRule) -> SQLColumnExpression[bool | None]:
    return col(T.contacted_on_time) if rule.response_clock == "contact" else col(T.acknowledged_on_time)


def _n(cond: ColumnElement[bool]) -> ColumnElement[int]:
    """count(*) FILTER (WHERE cond): one pass, no CASE per row (PostgreSQL and SQLite ≥ 3.30)."""
    return func.count().filter(cond)


def _overdue() -> ColumnElement[bool]:
    return or_(col(T.completed_on_time).is_(False), col(T.overdue).is_(True))


def _unit_column(group: Group) -> Mapped[str | None]:
    """The ticket column naming the unit, in a street, district or utility ranking."""
    return {Group.street: col(T.street), Group.district: col(T.district), Group.utility: col(T.lead_unit)}[group]


def counts_by_period(
    session: Session, group: Group, units: list[str], periods: list[Period], rule: AssessmentRule
) -> list[dict[str, Counts]]:
    """Counts per unit for each of consecutive periods but the first (oldest first: the first only
    gives the next its `previous` volume), in one pass over them all: rows grouped by unit and
    period, so each row meets each condition once."""
    if not units:
        return [{} for _ in periods[1:]]
    base = [
        _dispatched(),
        col(T.received_at) >= periods[0].start,
        col(T.received_at) < periods[-1].end,
        _not_excluded(),
    ]
    if group == Group.department:
        # 部门 + 行业: a department answers for the tickets it supervises and those it leads, counted
        # apart (each one table's aggregate, no join) and added up: the two sets are disjoint.
        supervisor, lead = col(T.supervisor_unit), col(T.lead_unit)
        passes = [
            (supervisor, [*base, supervisor.in_(units)]),
            (lead, [*base, lead.in_(units), or_(supervisor.is_(None), supervisor != lead)]),
        ]
    else:
        unit_col = _unit_column(group)
        # Every ticket has a street and a district: grouping all of them is cheaper than filtering.
        passes = [(unit_col, [*base, unit_col.in_(units)] if group == Group.utility else base)]
    which = sa.case(
        *((col(T.received_at) >= p.start, i) for i, p in reversed(list(enumerate(periods))) if i > 0), else_=0
    ).label("period_index")  # grouped by this name (the expression's bound values are its own)
    resp = _response_column(rule)
    conditions = [
        resp.is_(True),
        resp.is_not(None),
        col(T.resolved).is_(True),
        col(T.resolved).is_not(None),
        col(T.satisfaction).in_(list(rule.satisfied)),
        col(T.satisfaction).is_not(None),
        col(T.completed_on_time).is_(True),
        col(T.completed_on_time).is_not(None),
        _overdue(),
        col(T.urge_count) > 0,
        col(T.repeat_count) > 0,
        col(T.rehandle_round) > 0,
        col(T.kind) == "praise",
    ]
    wanted = set(units)
    sums: dict[tuple[str, int], list[int]] = {}  # (unit, period index) -> count, then each condition's
    for unit_col, where in passes:
        q = (
            sa.select(unit_col, which, func.count(), *(_n(c) for c in conditions))
            .where(*where)
            .group_by(unit_col, sa.literal_column("period_index"))
        )
        for unit, i, *values in session.execute(q):
            if unit in wanted:
                total = sums.setdefault((unit, int(i)), [0] * (1 + len(conditions)))
                for k, v in enumerate(values):
                    total[k] += int(v or 0)
    fields = list(Counts.model_fields)[3:]  # after unit, assessed, previous
    empty = [0] * (1 + len(conditions))
    out: list[dict[str, Counts]] = []
    for i in range(1, len(periods)):
        counts = {}
        for u in {u for (u, j) in sums if j in (i - 1, i)}:
            now = sums.get((u, i), empty)
            before = sums.get((u, i - 1), empty)
            counts[u] = Counts(unit=u, assessed=now[0], previous=before[0], **dict(zip(fields, now[1:], strict=True)))
        out.append(counts)
    return out


def _drill_branches(
    group: Group, unit: str, period: Period, metric: str, outcome: str | None, rule: AssessmentRule
) -> list[list[ColumnElement[bool]]]:
    """The conditions of the tickets behind one figure, as disjoint branches: one per unit index
    they are read from (a department's two: supervised, or led and not supervised)."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
    excluded = col(T.number).in_(select(col(AssessmentExclusionRow.number)))
    where = [_dispatched(), col(T.received_at) >= period.start, col(T.received_at) < period.end]
    where.append(excluded if metric == "excluded" else ~excluded)
    resp = _response_column(rule)
    looked_at, counted = {
        "volume": (None, None),
        "excluded": (None, None),
        "response": (resp.is_not(None), resp.is_(True)),
        "resolution": (col(T.resolved).is_not(None), col(T.resolved).is_(True)),
        "satisfaction": (col(T.satisfaction).is_not(None), col(T.satisfaction).in_(list(rule.satisfied))),
        "on_time": (col(T.completed_on_time).is_not(None), col(T.completed_on_time).is_(True)),
        "overdue": (None, _overdue()),
        "urged": (None, col(T.urge_count) > 0),
        "repeat": (None, col(T.repeat_count) > 0),
        "rehandled": (None, col(T.rehandle_round) > 0),
        "praise": (None, col(T.kind) == "praise"),
    }[metric]
    if looked_at is not None:
        where.append(looked_at)
    if counted is not None:
        if outcome == "counted" or (looked_at is None and outcome is None):
            where.append(counted)
        elif outcome == "missed":
            where.append(~counted)
    if group == Group.department:
        supervisor, lead = col(T.supervisor_unit), col(T.lead_unit)
        return [[supervisor == unit, *where], [lead == unit, or_(supervisor.is_(None), supervisor != unit), *where]]
    return [[_unit_column(group) == unit, *where]]


def _in_order(q):
    return q.order_by(col(T.received_at), col(T.number))


def drill_down(group: Group, unit: str, period: Period, metric: str, outcome: str | None, rule: AssessmentRule):
    """The tickets behind one figure: `outcome` "counted" (in the numerator), "missed" (in the
    denominator only) or None (all the figure looks at). Returns an ordered select of TicketRow
    (every ticket: drill_down_page reads one page)."""
    branches = _drill_branches(group, unit, period, metric, outcome, rule)
    if len(branches) == 1:
        return _in_order(select(T).where(*branches[0]))
    both = union_all(*(select(T).where(*b) for b in branches)).subquery()
    row = aliased(TicketRow, both)
    return select(row).order_by(col(row.received_at), col(row.number))


def drill_down_page(
    session: Session,
    group: Group,
    unit: str,
    period: Period,
    metric: str,
    outcome: str | None,
    rule: AssessmentRule,
    page: int,
    page_size: int,
) -> tuple[int, list[TicketRow]]:
    """One page of drill_down's tickets and how many there are, in one statement (on a busy
    machine every round trip waits for a CPU): the page's keys from the unit indexes, each branch
    walking its index in (received_at, number) order and stopping after the page (over a plain
    UNION PostgreSQL 16 sorts every ticket), then those rows; on PostgreSQL the keys and the count
    come from the index alone."""
    branches = _drill_branches(group, unit, period, metric, outcome, rule)
    skip = (page - 1) * page_size
    matched = union_all(*(sa.select(col(T.number)).where(*b) for b in branches)).subquery()
    total = sa.select(func.count()).select_from(matched).scalar_subquery()
    if metric == "excluded":
        # Few by nature: found from the exclusions and sorted (an index walk in order would pass
        # most of the unit's entries to find them).
        merged = union_all(*(sa.select(col(T.number), col(T.received_at)).where(*b) for b in branches)).subquery()
    else:
        heads = [
            _in_order(sa.select(col(T.number), col(T.received_at)).where(*b)).limit(skip + page_size) for b in branches
        ]
        # Each branch a subquery: SQLite takes no ORDER BY / LIMIT on a UNION's own members.
        merged = union_all(*(sa.select(*h.subquery().c) for h in heads)).subquery()
    keys = (
        sa.select(merged.c.number)
        .order_by(merged.c.received_at, merged.c.number)
        .offset(skip)
        .limit(page_size)
        .subquery()
    )
    found = session.exec(_in_order(select(T, total.label("total")).join(keys, col(T.number) == keys.c.number))).all()
    if found:
        return int(found[0][1]), [row for row, _ in found]
    # Past the last page (or nothing at all): the count alone.
    return int(session.execute(sa.select(total)).scalar_one()), []


def ranking(
    session: Session, directory: Directory, group: Group, period: Period, rule: AssessmentRule, compare: bool = True
) -> list[Score]:
    """Every unit of the group scored and ranked for the period, with its change since the period
    before. Units without tickets are listed too (unranked)."""
    names = members(directory, group)
    periods = [period.previous(), period]
    if compare:
        periods.insert(0, period.previous().previous())
    # This period's counts and, to compare, the period before's: one pass over them all.
    *before, now = counts_by_period(session, group, list(names), periods, rule)

    def scored(counts: dict[str, Counts]) -> list[Score]:
        return [score(counts.get(u, Counts(unit=u)), name, group, rule) for u, name in names.items()]

    previous = rank(scored(before[0]), rule.min_sample) if compare else None
    return rank(scored(now), rule.min_sample, previous)


# -- the report's figures ------------------------------------------------------------------------


def volume_by(session: Session, period: Period) -> dict[str, dict[str, int]]:
    where = [col(T.received_at) >= period.start, col(T.received_at) < period.end]
    out = {}
    for name, column in (
        ("channel", col(T.channel)),
        ("kind", col(T.kind)),
        ("category", col(T.category)),
        ("district", col(T.district)),
        ("intake_path", col(T.intake_path)),
    ):
        rows = session.exec(
            select(column, func.count()).where(*where).group_by(column).order_by(func.count().desc())
        ).all()
        out[name] = {str(k): int(n) for k, n in rows if k is not None}
    return out


def handling_figures(session: Session, period: Period) -> dict[str, object]:
    """Overdue and supervised tickets, first-dispatch accuracy and repeat complaints of the period."""
    where = [_dispatched(), col(T.received_at) >= period.start, col(T.received_at) < period.end]
    supervised = or_(col(T.flags).contains("supervised"), col(T.urge_count) > 0)
    reassigned = and_(col(T.first_responsible_unit).is_not(None), col(T.first_responsible_unit) != col(T.lead_unit))
    row = session.execute(
        sa.select(  # sqlmodel's select() is typed for at most four columns
            func.count(),
            _n(_overdue()),
            _n(supervised),
            _n(col(T.first_responsible_unit).is_not(None)),
            _n(reassigned),
            _n(col(T.repeat_count) > 0),
            func.coalesce(func.sum(col(T.repeat_count)), 0),
        ).where(*where)
    ).one()
    dispatched, overdue, supervised_n, first_known, reassigned_n, repeated, repeats = (int(v or 0) for v in row)

    def numbers(cond, order, limit: int = 50) -> list[str]:
        return list(session.exec(select(col(T.number)).where(*where, cond).order_by(*order).limit(limit)))

    return {
        "dispatched": dispatched,
        "overdue": overdue,
        "overdue_tickets": numbers(_overdue(), [col(T.deadline), col(T.number)]),
        "supervised": supervised_n,
        "supervised_tickets": numbers(supervised, [col(T.urge_count).desc(), col(T.number)]),
        "first_dispatch_accuracy": round((first_known - reassigned_n) / first_known, 4) if first_known else None,
        "reassigned": reassigned_n,
        "repeat_tickets": repeated,
        "repeats": int(repeats),
        "most_repeated": numbers(col(T.repeat_count) > 0, [col(T.repeat_count).desc(), col(T.number)], 20),
    }


def hot_spots(session: Session, period: Period, limit: int = 20) -> list[dict[str, object]]:
    """The most frequent category in one street, and the warnings raised in the period."""
    where = [col(T.received_at) >= period.start, col(T.received_at) < period.end, col(T.street).is_not(None)]
    n = func.count()
    rows = session.exec(
        select(col(T.category), col(T.district), col(T.street), n)
        .where(*where)
        .group_by(col(T.category), col(T.district), col(T.street))
        .order_by(n.desc(), col(T.category), col(T.street))
        .limit(limit)
    ).all()
    return [{"category": c, "district": d, "street": s, "tickets": int(k)} for c, d, s, k in rows]


def warnings_in(session: Session, start: datetime, end: datetime) -> list[EarlyWarningRow]:
    return list(
        session.exec(
            select(EarlyWarningRow)
            .where(col(EarlyWarningRow.raised_at) >= start, col(EarlyWarningRow.raised_at) < end)
            .order_by(col(EarlyWarningRow.raised_at), col(EarlyWarningRow.id))
        )
    )


# -- early warning ------------------------------------------------------------------------------


def scan_surges(session: Session, now: datetime, rule: SurgeRule) -> list[EarlyWarningRow]:
    """Raise (and store) a warning for every surge in the window ending `now`: per community first,
    then per street for what no community warning covers. One warning per place and category per
    window: a surge already warned of in the window is not warned of again."""
    window = timedelta(seconds=rule.window.seconds())
    start = now - window
    recent = (
        sa.select(  # sqlmodel's select() is typed for at most four columns
            col(T.category),
            col(T.district),
            col(T.street),
            col(T.community),
            func.count(),
            func.sum(col(T.repeat_count)),
        )
        .where(col(T.received_at) >= start, col(T.received_at) < now, col(T.street).is_not(None))
        .group_by(col(T.category), col(T.district), col(T.street), col(T.community))
    )
    by_community: Counter = Counter()
    by_street: Counter = Counter()
    district_of: dict[tuple, str | None] = {}
    for category, district, street, community, n, repeats in session.execute(recent):
        count = int(n) + int(repeats or 0)
        by_street[(category, street, None)] += count
        district_of[(category, street)] = district
        if community:
            by_community[(category, street, community)] += count
    raised: list[EarlyWarningRow] = []
    covered: set[tuple] = set()
    baseline_start = now - timedelta(seconds=rule.baseline.seconds())
    for counter in (by_community, by_street):
        for (category, street, community), count in sorted(counter.items()):
            if count < rule.min_count or (category, street) in covered:
                continue
            key = warning_key(category, street, community)
            base = [
                col(T.category) == category,
                col(T.street) == street,
                col(T.received_at) >= baseline_start,
                col(T.received_at) < start,
            ]
            if community:
                base.append(col(T.community) == community)
            baseline = int(session.exec(select(func.count()).where(*base)).one())
            if not is_surge(count, baseline, rule):
                continue
            covered.add((category, street))
            recent_warning = session.exec(
                select(col(EarlyWarningRow.id)).where(
                    col(EarlyWarningRow.key) == key, col(EarlyWarningRow.raised_at) > start
                )
            ).first()
            if recent_warning is not None:
                continue
            in_area = [
                col(T.category) == category,
                col(T.street) == street,
                col(T.received_at) >= start,
                col(T.received_at) < now,
            ]
            if community:
                in_area.append(col(T.community) == community)
            numbers = session.exec(select(col(T.number)).where(*in_area).order_by(col(T.received_at)).limit(100)).all()
            w = EarlyWarningRow(
                key=key,
                category=category,
                district=district_of.get((category, street)),
                street=street,
                community=community,
                count=count,
                baseline=round(expected_in_window(baseline, rule), 3),
                window_start=start,
                window_end=now,
                raised_at=now,
                numbers=" ".join(numbers),
            )
            session.add(w)
            raised.append(w)
    session.commit()
    return raised


# -- monthly focus -----------------------------------------------------------------------------


def focus_candidates(session: Session, month: Period, rule: AssessmentRule) -> list[dict[str, object]]:
    """Categories per district ranked by volume, repeats and dissatisfaction (每月一题 候选)."""
    where = [col(T.received_at) >= month.start, col(T.received_at) < month.end, _dispatched(), _not_excluded()]
    n = func.count()
    repeats = func.coalesce(func.sum(col(T.repeat_count)), 0)
    unsatisfied = _n(col(T.satisfaction) == "unsatisfied")
    f = rule.focus
    weight = n * literal(f.volume) + repeats * literal(f.repeat) + unsatisfied * literal(f.unsatisfied)
    rows = session.execute(
        # sqlmodel's select() is typed for at most four columns
        sa.select(col(T.category), col(T.district), n, repeats, unsatisfied)
        .where(*where)
        .group_by(col(T.category), col(T.district))
        .order_by(weight.desc(), col(T.category), col(T.district))
        .limit(f.candidates)
    ).all()
    return [
        {
            "category": c,
            "district": d,
            "tickets": int(k),
            "repeats": int(r or 0),
            "unsatisfied": int(u or 0),
            "score": focus_score(int(k), int(r or 0), int(u or 0), f),
        }
        for c, d, k, r, u in rows
    ]


def focus_where(focus: MonthlyFocusRow) -> list:
    where = [col(T.category) == focus.category, _dispatched()]
    if focus.district:
        where.append(col(T.district) == focus.district)
    return where


def focus_trend(session: Session, focus: MonthlyFocusRow, months_before: int = 3, months_after: int = 6) -> list[dict]:
    """Monthly volume of the focus's tickets around the month it was picked for, in one scan."""
    month = Period.parse(focus.month)
    periods = [month]
    for _ in range(months_before):
        periods.insert(0, periods[0].previous())
    for _ in range(months_after):
        periods.append(periods[-1].next())
    cols = [_n(and_(col(T.received_at) >= p.start, col(T.received_at) < p.end)) for p in periods]
    row = session.execute(
        sa.select(*cols).where(
            *focus_where(focus), col(T.received_at) >= periods[0].start, col(T.received_at) < periods[-1].end
        )
    ).one()
    counts = [int(v or 0) for v in row]
    picked = counts[months_before]
    return [
        {"month": p.label, "tickets": k, "change_vs_focus_month": round((k - picked) / picked, 4) if picked else None}
        for p, k in zip(periods, counts, strict=True)
    ]


def report_content(session: Session, directory: Directory, period: Period, rule: AssessmentRule) -> dict:
    """Everything a daily, weekly or monthly report holds, as JSON-able data."""
    volume = volume_by(session, period)
    rankings = {}
    for group in Group:
        rankings[group.value] = [
            {
                "rank": s.rank,
                "unit": s.unit,
                "name": s.name,
                "assessed": s.assessed,
                **s.rates,
                "points": s.points,
                "score": s.score,
                "rank_change": s.rank_change,
                "score_change": s.score_change,
            }
            for s in ranking(session, directory, group, period, rule)
        ]
    month = Period.containing(PeriodKind.month, period.start)
    warnings = [
        {
            "id": w.id,
            "category": w.category,
            "district": w.district,
            "street": w.street,
            "community": w.community,
            "count": w.count,
            "baseline": w.baseline,
            "raised_at": aware(w.raised_at).isoformat(),
        }
        for w in warnings_in(session, period.start, period.end)
    ]
    return {
        "period": period.label,
        "kind": period.kind.value,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "tickets": sum(volume["channel"].values()),
        "volume": volume,
        "rankings": rankings,
        "handling": handling_figures(session, period),
        "hot_spots": hot_spots(session, period),
        "warnings": warnings,
        "focus_candidates": focus_candidates(session, month, rule),
    }
