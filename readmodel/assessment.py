"""The assessment's questions of the read model, aggregated in SQL (one pass per ranking over the
period's rows, on the (unit column, received_at) indexes), the same on PostgreSQL and SQLite:
no date functions, booleans compared with IS TRUE / IS FALSE, periods as UTC bounds."""

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import and_, func, literal, or_, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

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
METRICS = (
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
)


def _not_excluded():
    return T.number.not_in(select(AssessmentExclusionRow.number))


def _dispatched():
    """Assessed tickets: dispatched to a unit (a direct answer or an emergency transfer is not)."""
    return T.lead_unit.is_not(None)


def _response_column(rule: AssessmentRule):
    return T.contacted_on_time if rule.response_clock == "contact" else T.acknowledged_on_time


def _n(cond) -> object:
    """count(*) FILTER (WHERE cond): one pass, no CASE per row (PostgreSQL and SQLite ≥ 3.30)."""
    return func.count().filter(cond)


def _overdue():
    return or_(T.completed_on_time.is_(False), T.overdue.is_(True))


def unit_counts(
    session: Session, group: Group, units: list[str], period: Period, rule: AssessmentRule
) -> dict[str, Counts]:
    """Counts per unit of the group for the period (and its volume in the period before)."""
    if not units:
        return {}
    prev = period.previous()
    base = [_dispatched(), T.received_at >= prev.start, T.received_at < period.end, _not_excluded()]
    if group == Group.department:
        # 部门 + 行业: a department answers for the tickets it supervises and those it leads.
        by_supervisor = select(T.number, T.supervisor_unit.label("unit")).where(*base, T.supervisor_unit.in_(units))
        by_lead = select(T.number, T.lead_unit.label("unit")).where(
            *base, T.lead_unit.in_(units), or_(T.supervisor_unit.is_(None), T.supervisor_unit != T.lead_unit)
        )
        pairs = union_all(by_supervisor, by_lead).subquery()
        unit_col = pairs.c.unit
        source = pairs.join(T, T.number == pairs.c.number)
        where = []
    else:
        unit_col = {Group.street: T.street, Group.district: T.district, Group.utility: T.lead_unit}[group]
        source = T
        # Every ticket has a street and a district: grouping all of them is cheaper than filtering.
        where = [*base, unit_col.in_(units)] if group == Group.utility else base
    now = T.received_at >= period.start
    resp = _response_column(rule)
    satisfied = list(rule.satisfied)
    q = (
        select(
            unit_col,
            _n(now),
            _n(~now),
            _n(and_(now, resp.is_(True))),
            _n(and_(now, resp.is_not(None))),
            _n(and_(now, T.resolved.is_(True))),
            _n(and_(now, T.resolved.is_not(None))),
            _n(and_(now, T.satisfaction.in_(satisfied))),
            _n(and_(now, T.satisfaction.is_not(None))),
            _n(and_(now, T.completed_on_time.is_(True))),
            _n(and_(now, T.completed_on_time.is_not(None))),
            _n(and_(now, _overdue())),
            _n(and_(now, T.urge_count > 0)),
            _n(and_(now, T.repeat_count > 0)),
            _n(and_(now, T.rehandle_round > 0)),
            _n(and_(now, T.kind == "praise")),
        )
        .select_from(source)
        .where(*where)
        .group_by(unit_col)
    )
    fields = list(Counts.model_fields)[1:]
    wanted = set(units)
    return {
        row[0]: Counts(unit=row[0], **{f: int(v or 0) for f, v in zip(fields, row[1:], strict=False)})
        for row in session.exec(q)
        if row[0] in wanted
    }


def drill_down(group: Group, unit: str, period: Period, metric: str, outcome: str | None, rule: AssessmentRule):
    """The tickets behind one figure: `outcome` "counted" (in the numerator), "missed" (in the
    denominator only) or None (all the figure looks at). Returns an ordered select of TicketRow."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; one of {', '.join(METRICS)}")
    excluded = T.number.in_(select(AssessmentExclusionRow.number))
    where = [_dispatched(), T.received_at >= period.start, T.received_at < period.end]
    where.append(excluded if metric == "excluded" else ~excluded)
    resp = _response_column(rule)
    looked_at, counted = {
        "volume": (None, None),
        "excluded": (None, None),
        "response": (resp.is_not(None), resp.is_(True)),
        "resolution": (T.resolved.is_not(None), T.resolved.is_(True)),
        "satisfaction": (T.satisfaction.is_not(None), T.satisfaction.in_(list(rule.satisfied))),
        "on_time": (T.completed_on_time.is_not(None), T.completed_on_time.is_(True)),
        "overdue": (None, _overdue()),
        "urged": (None, T.urge_count > 0),
        "repeat": (None, T.repeat_count > 0),
        "rehandled": (None, T.rehandle_round > 0),
        "praise": (None, T.kind == "praise"),
    }[metric]
    if looked_at is not None:
        where.append(looked_at)
    if counted is not None:
        if outcome == "counted" or (looked_at is None and outcome is None):
            where.append(counted)
        elif outcome == "missed":
            where.append(~counted)
    if group == Group.department:
        # Supervised, or led and not supervised: two index scans appended (an OR would read the table).
        both = union_all(
            select(T).where(T.supervisor_unit == unit, *where),
            select(T).where(T.lead_unit == unit, or_(T.supervisor_unit.is_(None), T.supervisor_unit != unit), *where),
        ).subquery()
        row = aliased(TicketRow, both)
        return select(row).order_by(row.received_at, row.number)
    in_unit = {Group.street: T.street, Group.district: T.district, Group.utility: T.lead_unit}[group] == unit
    return select(T).where(in_unit, *where).order_by(T.received_at, T.number)


def ranking(
    session: Session, directory: Directory, group: Group, period: Period, rule: AssessmentRule, compare: bool = True
) -> list[Score]:
    """Every unit of the group scored and ranked for the period, with its change since the period
    before. Units without tickets are listed too (unranked)."""
    names = members(directory, group)

    def scored(p: Period) -> list[Score]:
        counts = unit_counts(session, group, list(names), p, rule)
        return [score(counts.get(u, Counts(unit=u)), name, group, rule) for u, name in names.items()]

    previous = rank(scored(period.previous()), rule.min_sample) if compare else None
    return rank(scored(period), rule.min_sample, previous)


# -- the report's figures ------------------------------------------------------------------------


def volume_by(session: Session, period: Period) -> dict[str, dict[str, int]]:
    where = [T.received_at >= period.start, T.received_at < period.end]
    out = {}
    for name, col in (
        ("channel", T.channel),
        ("kind", T.kind),
        ("category", T.category),
        ("district", T.district),
        ("intake_path", T.intake_path),
    ):
        rows = session.exec(select(col, func.count()).where(*where).group_by(col).order_by(func.count().desc())).all()
        out[name] = {str(k): int(n) for k, n in rows if k is not None}
    return out


def handling_figures(session: Session, period: Period) -> dict[str, object]:
    """Overdue and supervised tickets, first-dispatch accuracy and repeat complaints of the period."""
    where = [_dispatched(), T.received_at >= period.start, T.received_at < period.end]
    supervised = or_(T.flags.contains("supervised"), T.urge_count > 0)
    reassigned = and_(T.first_responsible_unit.is_not(None), T.first_responsible_unit != T.lead_unit)
    row = session.exec(
        select(
            func.count(),
            _n(_overdue()),
            _n(supervised),
            _n(T.first_responsible_unit.is_not(None)),
            _n(reassigned),
            _n(T.repeat_count > 0),
            func.coalesce(func.sum(T.repeat_count), 0),
        ).where(*where)
    ).one()
    dispatched, overdue, supervised_n, first_known, reassigned_n, repeated, repeats = (int(v or 0) for v in row)

    def numbers(cond, order, limit: int = 50) -> list[str]:
        return list(session.exec(select(T.number).where(*where, cond).order_by(*order).limit(limit)))

    return {
        "dispatched": dispatched,
        "overdue": overdue,
        "overdue_tickets": numbers(_overdue(), [T.deadline, T.number]),
        "supervised": supervised_n,
        "supervised_tickets": numbers(supervised, [T.urge_count.desc(), T.number]),
        "first_dispatch_accuracy": round((first_known - reassigned_n) / first_known, 4) if first_known else None,
        "reassigned": reassigned_n,
        "repeat_tickets": repeated,
        "repeats": int(repeats),
        "most_repeated": numbers(T.repeat_count > 0, [T.repeat_count.desc(), T.number], 20),
    }


def hot_spots(session: Session, period: Period, limit: int = 20) -> list[dict[str, object]]:
    """The most frequent category in one street, and the warnings raised in the period."""
    where = [T.received_at >= period.start, T.received_at < period.end, T.street.is_not(None)]
    n = func.count()
    rows = session.exec(
        select(T.category, T.district, T.street, n)
        .where(*where)
        .group_by(T.category, T.district, T.street)
        .order_by(n.desc(), T.category, T.street)
        .limit(limit)
    ).all()
    return [{"category": c, "district": d, "street": s, "tickets": int(k)} for c, d, s, k in rows]


def warnings_in(session: Session, start: datetime, end: datetime) -> list[EarlyWarningRow]:
    return list(
        session.exec(
            select(EarlyWarningRow)
            .where(EarlyWarningRow.raised_at >= start, EarlyWarningRow.raised_at < end)
            .order_by(EarlyWarningRow.raised_at, EarlyWarningRow.id)
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
        select(T.category, T.district, T.street, T.community, func.count(), func.sum(T.repeat_count))
        .where(T.received_at >= start, T.received_at < now, T.street.is_not(None))
        .group_by(T.category, T.district, T.street, T.community)
    )
    by_community: Counter = Counter()
    by_street: Counter = Counter()
    district_of: dict[tuple, str | None] = {}
    for category, district, street, community, n, repeats in session.exec(recent):
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
            base = [T.category == category, T.street == street, T.received_at >= baseline_start, T.received_at < start]
            if community:
                base.append(T.community == community)
            baseline = int(session.exec(select(func.count()).where(*base)).one())
            if not is_surge(count, baseline, rule):
                continue
            covered.add((category, street))
            recent_warning = session.exec(
                select(EarlyWarningRow.id).where(EarlyWarningRow.key == key, EarlyWarningRow.raised_at > start)
            ).first()
            if recent_warning is not None:
                continue
            in_area = [T.category == category, T.street == street, T.received_at >= start, T.received_at < now]
            if community:
                in_area.append(T.community == community)
            numbers = session.exec(select(T.number).where(*in_area).order_by(T.received_at).limit(100)).all()
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
    where = [T.received_at >= month.start, T.received_at < month.end, _dispatched(), _not_excluded()]
    n = func.count()
    repeats = func.coalesce(func.sum(T.repeat_count), 0)
    unsatisfied = _n(T.satisfaction == "unsatisfied")
    f = rule.focus
    weight = n * literal(f.volume) + repeats * literal(f.repeat) + unsatisfied * literal(f.unsatisfied)
    rows = session.exec(
        select(T.category, T.district, n, repeats, unsatisfied)
        .where(*where)
        .group_by(T.category, T.district)
        .order_by(weight.desc(), T.category, T.district)
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
    where = [T.category == focus.category, _dispatched()]
    if focus.district:
        where.append(T.district == focus.district)
    return where


def focus_trend(session: Session, focus: MonthlyFocusRow, months_before: int = 3, months_after: int = 6) -> list[dict]:
    """Monthly volume of the focus's tickets around the month it was picked for, in one scan."""
    month = Period.parse(focus.month)
    periods = [month]
    for _ in range(months_before):
        periods.insert(0, periods[0].previous())
    for _ in range(months_after):
        periods.append(periods[-1].next())
    cols = [_n(and_(T.received_at >= p.start, T.received_at < p.end)) for p in periods]
    row = session.exec(
        select(*cols).where(*focus_where(focus), T.received_at >= periods[0].start, T.received_at < periods[-1].end)
    ).one()
    counts = [int(v or 0) for v in row]
    picked = counts[months_before]
    return [
        {"month": p.label, "tickets": k, "change_vs_focus_month": round((k - picked) / picked, 4) if picked else None}
        for p, k in zip(periods, counts, strict=False)
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
