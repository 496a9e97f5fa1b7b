"""The monthly exam (考核) as the center, its leaders and the units see it: rankings per tier with
the three rates, decline rate, on-time completion, plus and minus items and the composite score;
the tickets behind every figure; exclusions after review (核减); the scheduled reports (CSV and
XLSX); early warnings (未诉先办); the month's focus (每月一题).

Units see their own figures only; the center, supervisors and leaders see everything."""

import csv
import io
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from anyio import to_thread
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.deps import ClientDep, DirectoryDep, SettingsDep, require
from api.errors import ApiError, not_found
from api.views import Page, TicketListItem
from catalog.policies import load_pack
from domain.assessment import (
    ExclusionReason,
    Group,
    Period,
    PeriodKind,
    ReportInput,
    ReportKind,
    ReportReceipt,
    Score,
    group_of,
)
from domain.directory import Directory
from domain.errors import forbidden
from domain.policy import AssessmentRule
from domain.ticket import Actor
from domain.vocabulary import Role
from readmodel import assessment, db
from readmodel.db import aware
from readmodel.tables import (
    AssessmentExclusionRow,
    AssessmentReportRow,
    EarlyWarningRow,
    MonthlyFocusRow,
    TicketRow,
    utcnow,
)

router = APIRouter(prefix="/assessment", tags=["assessment"])

OFFICE = (Role.center, Role.supervisor, Role.leader)
Viewer = Annotated[Actor, Depends(require(*OFFICE, Role.unit, what="see assessment figures"))]
Office = Annotated[Actor, Depends(require(*OFFICE, what="see the whole city's assessment"))]
Reviewer = Annotated[Actor, Depends(require(Role.center, Role.leader, what="rule a ticket out of the assessment"))]
Leader = Annotated[Actor, Depends(require(Role.leader, what="pick the month's focus (每月一题)"))]
Center = Annotated[Actor, Depends(require(Role.center, Role.leader, what="produce a report"))]


def _period(label: str | None, kind: PeriodKind = PeriodKind.month) -> Period:
    if not label:
        return Period.containing(kind, utcnow())
    try:
        return Period.parse(label)
    except ValueError as e:
        raise ApiError(422, str(e)) from e


def _rule(settings) -> AssessmentRule:
    return load_pack(settings.policy_pack).assessment


def _group_of_unit(directory: Directory, unit: str) -> Group:
    u = directory.units.get(unit)
    if u is None:
        raise not_found(f"unknown unit {unit!r}")
    group = group_of(u.kind, u.tier)
    if group is None:
        raise ApiError(422, f"{u.name} is not assessed (the center itself)")
    return group


def _own(actor: Actor, unit: str) -> None:
    if actor.role == Role.unit and actor.unit != unit:
        raise forbidden(f"a unit sees its own figures only (you are {actor.unit})")


class Ranking(BaseModel):
    group: Group
    period: str
    previous_period: str
    start: datetime
    end: datetime
    min_sample: int
    weights: dict[str, float]
    response_clock: str
    units: list[Score]


@router.get("/rankings", response_model=Ranking, summary="The ranking of one tier for a period (units: their own line)")
async def rankings(
    actor: Viewer,
    settings: SettingsDep,
    directory: DirectoryDep,
    group: Group = Group.street,
    period: Annotated[
        str | None, Query(description="2026-11 (default: this month), 2026-W47, 2026-11-22, 2026-Q4")
    ] = None,
) -> Ranking:
    p, rule = _period(period), _rule(settings)

    def run() -> list[Score]:
        with db.session(settings.database_url) as session:
            return assessment.ranking(session, directory, group, p, rule)

    units = await to_thread.run_sync(run)
    if actor.role == Role.unit:
        units = [s for s in units if s.unit == actor.unit]
    return Ranking(
        group=group,
        period=p.label,
        previous_period=p.previous().label,
        start=p.start,
        end=p.end,
        min_sample=rule.min_sample,
        weights=dict(rule.weights),
        response_clock=rule.response_clock,
        units=units,
    )


@router.get("/units/{unit}", response_model=Score, summary="One unit's figures for a period, with its rank in its tier")
async def unit_score(
    unit: str, actor: Viewer, settings: SettingsDep, directory: DirectoryDep, period: str | None = None
) -> Score:
    _own(actor, unit)
    group, p, rule = _group_of_unit(directory, unit), _period(period), _rule(settings)

    def run() -> Score:
        with db.session(settings.database_url) as session:
            return next(s for s in assessment.ranking(session, directory, group, p, rule) if s.unit == unit)

    return await to_thread.run_sync(run)


class TicketPage(Page[TicketListItem]):
    pass


Metric = assessment.Metric


@router.get("/units/{unit}/tickets", response_model=TicketPage, summary="The tickets behind one of a unit's figures")
async def drill_down(
    unit: str,
    actor: Viewer,
    settings: SettingsDep,
    directory: DirectoryDep,
    period: str | None = None,
    metric: Metric = "volume",
    outcome: Annotated[
        Literal["counted", "missed"] | None,
        Query(description="counted: in the numerator; missed: in the denominator only"),
    ] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TicketPage:
    _own(actor, unit)
    group, p, rule = _group_of_unit(directory, unit), _period(period), _rule(settings)

    def run() -> TicketPage:
        with db.session(settings.database_url) as session:
            total, rows = assessment.drill_down_page(session, group, unit, p, metric, outcome, rule, page, page_size)
        return TicketPage(items=[TicketListItem.of(r) for r in rows], total=total, page=page, page_size=page_size)

    return await to_thread.run_sync(run)


# -- exclusions (核减) ---------------------------------------------------------------------------


class ExclusionIn(BaseModel):
    number: str = Field(max_length=32)
    reason: ExclusionReason
    note: str = Field(min_length=2, max_length=1000, description="why, after review: what the review found")


class ExclusionView(BaseModel):
    number: str
    reason: ExclusionReason
    note: str
    decided_by: str
    decided_at: datetime

    @classmethod
    def of(cls, row: AssessmentExclusionRow) -> "ExclusionView":
        return cls(
            number=row.number,
            reason=ExclusionReason(row.reason),
            note=row.note,
            decided_by=row.decided_by,
            decided_at=aware(row.decided_at),
        )


@router.post(
    "/exclusions",
    response_model=ExclusionView,
    status_code=201,
    summary="Rule a ticket out of the assessment after review (unreasonable, malicious, 为企正名)",
)
async def exclude(body: ExclusionIn, actor: Reviewer, settings: SettingsDep) -> ExclusionView:
    def run() -> ExclusionView:
        with db.session(settings.database_url) as session:
            if session.get(TicketRow, body.number) is None:
                raise not_found(f"no ticket {body.number}")
            row = session.get(AssessmentExclusionRow, body.number) or AssessmentExclusionRow(
                number=body.number, reason=body.reason.value, decided_by="", decided_at=utcnow()
            )
            row.reason, row.note = body.reason.value, body.note
            row.decided_by, row.decided_at = actor.label, utcnow()
            session.add(row)
            session.commit()
            return ExclusionView.of(row)

    return await to_thread.run_sync(run)


@router.delete("/exclusions/{number}", status_code=204, summary="Count a ruled-out ticket again")
async def include_again(number: str, _: Reviewer, settings: SettingsDep) -> Response:
    def run() -> None:
        with db.session(settings.database_url) as session:
            row = session.get(AssessmentExclusionRow, number)
            if row is None:
                raise not_found(f"ticket {number} is not ruled out of the assessment")
            session.delete(row)
            session.commit()

    await to_thread.run_sync(run)
    return Response(status_code=204)


@router.get("/exclusions", response_model=list[ExclusionView], summary="Tickets ruled out, who decided and why")
async def exclusions(_: Office, settings: SettingsDep, period: str | None = None) -> list[ExclusionView]:
    def run() -> list[ExclusionView]:
        q = select(AssessmentExclusionRow).order_by(col(AssessmentExclusionRow.decided_at))
        if period:
            p = _period(period)
            q = q.join(TicketRow, col(TicketRow.number) == col(AssessmentExclusionRow.number)).where(
                col(TicketRow.received_at) >= p.start, col(TicketRow.received_at) < p.end
            )
        with db.session(settings.database_url) as session:
            return [ExclusionView.of(r) for r in session.exec(q)]

    return await to_thread.run_sync(run)


# -- reports --------------------------------------------------------------------------------------


class ReportSummary(BaseModel):
    id: int
    kind: str
    period: str
    start: datetime
    end: datetime
    produced_by: str
    created_at: datetime

    @classmethod
    def of(cls, row: AssessmentReportRow) -> "ReportSummary":
        return cls(
            id=row.id,
            kind=row.kind,
            period=row.period,
            start=aware(row.period_start),
            end=aware(row.period_end),
            produced_by=row.produced_by,
            created_at=aware(row.created_at),
        )


class ReportView(ReportSummary):
    content: dict[str, Any]


@router.get("/reports", response_model=list[ReportSummary], summary="Reports produced, newest first")
async def list_reports(
    _: Office, settings: SettingsDep, kind: ReportKind | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ReportSummary]:
    def run():
        q = select(AssessmentReportRow).order_by(
            col(AssessmentReportRow.period_start).desc(), col(AssessmentReportRow.id).desc()
        )
        if kind:
            q = q.where(AssessmentReportRow.kind == kind.value)
        with db.session(settings.database_url) as session:
            return [ReportSummary.of(r) for r in session.exec(q.limit(limit))]

    return await to_thread.run_sync(run)


def _report(settings, report_id: int) -> AssessmentReportRow:
    with db.session(settings.database_url) as session:
        row = session.get(AssessmentReportRow, report_id)
    if row is None:
        raise not_found(f"no report {report_id}")
    return row


@router.get("/reports/{report_id}", response_model=ReportView, summary="A report's figures")
async def get_report(report_id: int, _: Office, settings: SettingsDep) -> ReportView:
    row = await to_thread.run_sync(_report, settings, report_id)
    return ReportView(**ReportSummary.of(row).model_dump(), content=json.loads(row.content_json))


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/reports/{report_id}/download",
    summary="A report as CSV or XLSX",
    responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}}}},
)
async def download_report(
    report_id: int, _: Office, settings: SettingsDep, format: Literal["csv", "xlsx"] = "csv"
) -> Response:
    row = await to_thread.run_sync(_report, settings, report_id)
    tables = report_tables(json.loads(row.content_json))
    name = f"12345-{row.kind}-{row.period}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(to_csv(tables).encode("utf-8-sig"), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(await to_thread.run_sync(to_xlsx, tables), media_type=XLSX_TYPE, headers=headers)


@router.post("/reports", response_model=ReportReceipt, summary="Produce a report now (the schedules do it each day)")
async def produce_report(body: ReportInput, actor: Center, client: ClientDep, settings: SettingsDep) -> ReportReceipt:
    from workflows.assessment import AssessmentReportWorkflow

    if body.period:
        p = _period(body.period)
        if p.kind != body.kind.period_kind:
            raise ApiError(422, f"a {body.kind.value} report covers a {body.kind.period_kind.value}, not {body.period}")
    else:
        p = Period.last_complete(body.kind.period_kind, utcnow())
    request = body.model_copy(update={"period": p.label, "produced_by": actor.label})
    return await client.execute_workflow(
        AssessmentReportWorkflow.run,
        request,
        id=f"report-{body.kind.value}-{p.label}-{utcnow():%Y%m%d%H%M%S%f}",
        task_queue=settings.task_queue,
    )


Table = tuple[str, list[str], list[list[Any]]]


def report_tables(content: dict[str, Any]) -> list[Table]:
    """A report as titled tables: one CSV block or one XLSX sheet each."""
    tables: list[Table] = [
        (
            "概况 summary",
            ["item", "value"],
            [
                ["period", content["period"]],
                ["kind", content["kind"]],
                ["start", content["start"]],
                ["end", content["end"]],
                ["tickets", content["tickets"]],
                ["generated_at", content.get("generated_at", "")],
            ],
        ),
    ]
    for dim, counts in content["volume"].items():
        tables.append((f"受理量 volume by {dim}", [dim, "tickets"], [[k, v] for k, v in counts.items()]))
    rate_cols = [
        "rank",
        "unit",
        "name",
        "assessed",
        "response",
        "resolution",
        "satisfaction",
        "on_time",
        "decline",
        "points",
        "score",
        "rank_change",
        "score_change",
    ]
    for group, rows in content["rankings"].items():
        tables.append((f"三率排名 ranking {group}", rate_cols, [[r.get(c) for c in rate_cols] for r in rows]))
    h = content["handling"]
    tables.append(
        ("办理 handling", ["item", "value"], [[k, " ".join(v) if isinstance(v, list) else v] for k, v in h.items()])
    )
    tables.append(
        (
            "热点 hot spots",
            ["category", "district", "street", "tickets"],
            [[r["category"], r["district"], r["street"], r["tickets"]] for r in content["hot_spots"]],
        )
    )
    wcols = ["id", "category", "district", "street", "community", "count", "baseline", "raised_at"]
    tables.append(("预警 early warnings", wcols, [[w.get(c) for c in wcols] for w in content["warnings"]]))
    fcols = ["category", "district", "tickets", "repeats", "unsatisfied", "score"]
    tables.append(
        ("每月一题候选 focus candidates", fcols, [[f.get(c) for c in fcols] for f in content["focus_candidates"]])
    )
    return tables


def to_csv(tables: list[Table]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    for title, headers, rows in tables:
        w.writerow([title])
        w.writerow(headers)
        w.writerows(rows)
        w.writerow([])
    return out.getvalue()


def to_xlsx(tables: list[Table]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for i, (title, headers, rows) in enumerate(tables, 1):
        # Sheet names: at most 31 characters, none of []:*?/\
        name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:28]
        ws = wb.create_sheet(f"{i:02d} {name}"[:31])
        ws.append(headers)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- early warnings ----------------------------------------------------------------------------


class WarningView(BaseModel):
    id: int
    category: str
    district: str | None
    street: str | None
    community: str | None
    count: int
    baseline: float
    window_start: datetime
    window_end: datetime
    raised_at: datetime
    tickets: list[str]
    recipients: list[str]
    delivered_to: list[str]

    @classmethod
    def of(cls, w: EarlyWarningRow) -> "WarningView":
        return cls(
            id=w.id,
            category=w.category,
            district=w.district,
            street=w.street,
            community=w.community,
            count=w.count,
            baseline=w.baseline,
            window_start=aware(w.window_start),
            window_end=aware(w.window_end),
            raised_at=aware(w.raised_at),
            tickets=w.numbers.split(),
            recipients=list(w.recipients),
            delivered_to=list(w.delivered_to),
        )


@router.get(
    "/warnings", response_model=list[WarningView], summary="Early warnings (未诉先办), newest first (units: theirs)"
)
async def warnings(
    actor: Viewer,
    settings: SettingsDep,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[WarningView]:
    if since is not None and since.tzinfo is None:
        raise ApiError(422, "since needs a time zone, e.g. 2026-11-22T00:00:00+08:00")

    def run():
        q = select(EarlyWarningRow).order_by(col(EarlyWarningRow.raised_at).desc(), col(EarlyWarningRow.id).desc())
        if since:
            q = q.where(EarlyWarningRow.raised_at >= since.astimezone(UTC))
        if actor.role == Role.unit:  # recipients is a JSON list: filtered here (warnings are few)
            with db.session(settings.database_url) as session:
                rows = [w for w in session.exec(q.limit(5000)) if actor.unit in w.recipients]
            return [WarningView.of(w) for w in rows[:limit]]
        with db.session(settings.database_url) as session:
            return [WarningView.of(w) for w in session.exec(q.limit(limit))]

    return await to_thread.run_sync(run)


# -- monthly focus (每月一题) --------------------------------------------------------------------------


class FocusCandidate(BaseModel):
    category: str
    district: str | None
    tickets: int
    repeats: int
    unsatisfied: int
    score: float


@router.get(
    "/focus/candidates",
    response_model=list[FocusCandidate],
    summary="The month's focus candidates: categories per district by volume, repeats and dissatisfaction",
)
async def focus_candidates(_: Office, settings: SettingsDep, month: str | None = None) -> list[FocusCandidate]:
    p = _period(month)
    if p.kind != PeriodKind.month:
        raise ApiError(422, "month must be YYYY-MM")

    def run():
        with db.session(settings.database_url) as session:
            return [FocusCandidate(**c) for c in assessment.focus_candidates(session, p, _rule(settings))]

    return await to_thread.run_sync(run)


class FocusIn(BaseModel):
    category: str
    district: str | None = None
    title: str = Field(min_length=2, max_length=200)
    note: str = Field(default="", max_length=2000)


class FocusView(BaseModel):
    month: str
    category: str
    district: str | None
    title: str
    note: str
    picked_by: str
    picked_at: datetime
    trend: list[dict[str, Any]] = []

    @classmethod
    def of(cls, row: MonthlyFocusRow, trend: list[dict] | None = None) -> "FocusView":
        return cls(
            month=row.month,
            category=row.category,
            district=row.district,
            title=row.title,
            note=row.note,
            picked_by=row.picked_by,
            picked_at=aware(row.picked_at),
            trend=trend or [],
        )


def _month(month: str) -> Period:
    p = _period(month)
    if p.kind != PeriodKind.month:
        raise ApiError(422, "month must be YYYY-MM")
    return p


@router.put("/focus/{month}", response_model=FocusView, summary="A leader picks the month's topic (每月一题)")
async def pick_focus(
    month: str, body: FocusIn, actor: Leader, settings: SettingsDep, directory: DirectoryDep
) -> FocusView:
    p = _month(month)
    if body.category not in directory.categories:
        raise ApiError(422, f"unknown category {body.category!r}")
    if body.district and body.district not in directory.units:
        raise ApiError(422, f"unknown district {body.district!r}")

    def run():
        with db.session(settings.database_url) as session:
            row = session.get(MonthlyFocusRow, p.label) or MonthlyFocusRow(
                month=p.label, category=body.category, title=body.title, picked_by="", picked_at=utcnow()
            )
            row.category, row.district, row.title, row.note = body.category, body.district, body.title, body.note
            row.picked_by, row.picked_at = actor.label, utcnow()
            session.add(row)
            session.commit()
            return FocusView.of(row, assessment.focus_trend(session, row))

    return await to_thread.run_sync(run)


@router.get("/focus/{month}", response_model=FocusView, summary="The month's topic and its trend month by month")
async def get_focus(month: str, _: Office, settings: SettingsDep) -> FocusView:
    p = _month(month)

    def run():
        with db.session(settings.database_url) as session:
            row = session.get(MonthlyFocusRow, p.label)
            if row is None:
                raise not_found(f"no focus picked for {p.label}")
            return FocusView.of(row, assessment.focus_trend(session, row))

    return await to_thread.run_sync(run)


@router.get("/focus/{month}/tickets", response_model=TicketPage, summary="The tickets of the month's topic")
async def focus_tickets(
    month: str,
    _: Office,
    settings: SettingsDep,
    since: Annotated[
        str | None, Query(description="a later month to follow the topic in (default: the focus month)")
    ] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TicketPage:
    p = _month(month)
    q_month = _month(since) if since else p

    def run():
        with db.session(settings.database_url) as session:
            row = session.get(MonthlyFocusRow, p.label)
            if row is None:
                raise not_found(f"no focus picked for {p.label}")
            q = (
                select(TicketRow)
                .where(
                    *assessment.focus_where(row),
                    col(TicketRow.received_at) >= q_month.start,
                    col(TicketRow.received_at) < q_month.end,
                )
                .order_by(col(TicketRow.received_at), col(TicketRow.number))
            )
            total, rows = db.page(session, q, page, page_size)
        return TicketPage(items=[TicketListItem.of(r) for r in rows], total=total, page=page, page_size=page_size)

    return await to_thread.run_sync(run)
