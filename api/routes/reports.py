"""Lists the center works from: the manual callback queue (回访队列), the monthly clearing list of
hard cases (动态清零), and intake figures by channel, path and outcome."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from api.deps import CenterActor, SessionDep, SettingsDep
from api.errors import ApiError
from api.params import MaybeTime, Month
from api.views import TicketListItem
from domain.deadlines.calendar import CHINA_TZ
from domain.vocabulary import Stage
from readmodel import db
from readmodel.first_dispatch import FirstDispatch, first_dispatch
from readmodel.tables import TicketRow

router = APIRouter(tags=["center"])


@router.get(
    "/callbacks", response_model=list[TicketListItem],
    summary="The manual callback queue: tickets waiting for the citizen's answer, longest waiting first",
)  # fmt: skip
async def callback_queue(
    _: CenterActor, session: SessionDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[TicketListItem]:
    def run(session: Session) -> list[TicketListItem]:
        rows = session.exec(
            select(TicketRow).where(TicketRow.stage == Stage.callback.value)
            .order_by(col(TicketRow.updated_at), TicketRow.number).limit(limit)
        ).all()  # fmt: skip
        return [TicketListItem.of(r) for r in rows]

    return await db.in_thread(run, session)


def _month(month: str) -> tuple[datetime, datetime]:
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError as e:
        raise ApiError(422, f"month must be YYYY-MM, got {month!r}") from e
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    # Stored times are UTC (SQLite keeps no zone): compare in UTC.
    start, end = (datetime.combine(d, time(), CHINA_TZ).astimezone(UTC) for d in (first, nxt))
    return start, end


@router.get(
    "/clearing-list", response_model=list[TicketListItem],
    summary="Hard cases of a month (Beijing time): the rehandle limit reached, for the monthly clearing (动态清零)",
)  # fmt: skip
async def clearing_list(_: CenterActor, session: SessionDep, month: Month) -> list[TicketListItem]:
    start, end = _month(month)

    def run(session: Session) -> list[TicketListItem]:
        closed = col(TicketRow.closed_at)
        rows = session.exec(
            select(TicketRow).where(TicketRow.outcome == "hard_case")
            .where(closed >= start, closed < end)
            .order_by(closed, TicketRow.number)
        ).all()  # fmt: skip
        return [TicketListItem.of(r) for r in rows]

    return await db.in_thread(run, session)


class IntakeStats(BaseModel):
    since: datetime | None
    until: datetime | None
    tickets: int
    by_channel: dict[str, int]
    by_path: dict[str, int]
    by_outcome: dict[str, int]
    by_stage: dict[str, int]
    enterprise: int
    merged_repeats: int  # appeals joined to open tickets (并单)
    waiting_for_callback: int


@router.get("/stats/intake", response_model=IntakeStats, summary="Intake figures: channels, paths, outcomes, merges")
async def intake_stats(
    _: CenterActor, session: SessionDep, since: MaybeTime = None, until: MaybeTime = None
) -> IntakeStats:
    def run(session: Session) -> IntakeStats:
        where = []
        if since:
            where.append(col(TicketRow.received_at) >= since.astimezone(UTC))
        if until:
            where.append(col(TicketRow.received_at) < until.astimezone(UTC))

        def count_by(column) -> dict[str, int]:
            rows = session.exec(select(column, func.count()).where(*where).group_by(column)).all()
            return {str(k): n for k, n in rows if k is not None}

        total = session.exec(select(func.count()).select_from(TicketRow).where(*where)).one()
        enterprise = session.exec(select(func.count()).select_from(TicketRow).where(*where, TicketRow.enterprise)).one()
        merged = session.exec(select(func.coalesce(func.sum(TicketRow.repeat_count), 0)).where(*where)).one()
        by_stage = count_by(TicketRow.stage)
        return IntakeStats(
            since=since, until=until, tickets=total, by_channel=count_by(TicketRow.channel),
            by_path=count_by(TicketRow.intake_path), by_outcome=count_by(TicketRow.outcome), by_stage=by_stage,
            enterprise=enterprise, merged_repeats=int(merged), waiting_for_callback=by_stage.get("callback", 0),
        )  # fmt: skip

    return await db.in_thread(run, session)


@router.get(
    "/stats/first-dispatch", response_model=FirstDispatch,
    summary="First-dispatch accuracy (一次转办准确率): dispatched tickets closed by the unit first dispatched to",
)  # fmt: skip
async def first_dispatch_stats(
    _: CenterActor,
    settings: SettingsDep,
    month: Annotated[str | None, Query(description="YYYY-MM (Beijing time); none: every month", max_length=7)] = None,
) -> FirstDispatch:
    """By month of closing and by category. A ticket counts as kept when its lead at closing is
    the unit first dispatched to, and no approved return, reassignment or ruling moved it."""
    since, until = _month(month) if month else (None, None)
    return await to_thread.run_sync(first_dispatch, settings.database_url, since, until)
