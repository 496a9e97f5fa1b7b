"""Tickets: the live state of one, and lists for supervisors and units (intake is in intake.py)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlmodel import Session, col, select

from api.deps import ActorDep, DirectoryDep, MaybeClientDep, SessionDep, SettingsDep
from api.errors import ApiError, unavailable
from api.intake import being_started, pending_state
from api.params import PageNumber, PageSize
from api.views import TicketListItem, TicketPage, check_can_view, citizen_view
from api.workflow_calls import query_state
from domain.ticket import TicketState
from domain.vocabulary import Role, Stage, Tier, Urgency
from readmodel import db
from readmodel.tables import TicketRow, TicketUnitRow
from readmodel.tickets import stored_ticket

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.get("/{number}", response_model=TicketState, summary="Live state of a ticket, with its timeline")
async def get_ticket(
    number: str, actor: ActorDep, client: MaybeClientDep, settings: SettingsDep, session: SessionDep, response: Response
) -> TicketState:
    state, from_read_model = None, False
    missing: ApiError | None = None
    if client is not None:
        try:
            state = await query_state(client, number)
        except ApiError as e:
            if e.status not in (503, 404):  # 503: Temporal or the worker could not answer; the read model does
                raise
            missing = e if e.status == 404 else None
    if state is None:
        # The worker or Temporal is away: answer from the read model (masked, maybe a step behind);
        # a ticket taken in while Temporal was down (202) from the intake ledger, stage intake.
        row = None if missing else await db.in_thread(stored_ticket, session, number)
        if row is not None:
            state = TicketState.model_validate_json(row.state_json)
            response.headers["X-Ticket-Source"] = "read-model"
            from_read_model = True
        else:
            pending = await db.in_thread(being_started, session, number)
            if pending is None:
                if missing:
                    raise missing
                raise unavailable(f"Temporal at {settings.temporal_address} did not answer for ticket {number}")
            state = pending_state(pending)
            response.headers["X-Ticket-Source"] = "intake-ledger"
            from_read_model = True  # masked, as the read model is
    check_can_view(actor, state)
    return citizen_view(actor, state, settings.citizen_in_clear, from_read_model)


@router.get("", response_model=TicketPage, summary="List tickets from the read model")
async def list_tickets(
    actor: ActorDep,
    session: SessionDep,
    directory: DirectoryDep,
    status_: Annotated[Stage | None, Query(alias="status", description="stage, e.g. handling")] = None,
    unit: Annotated[str | None, Query(description="unit id: tickets it leads, supervises or coordinates")] = None,
    district: Annotated[str | None, Query(description="district id or name")] = None,
    category: str | None = None,
    urgency: Urgency | None = None,
    tier: Tier | None = None,
    overdue: bool | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> TicketPage:
    if actor.role == Role.unit:
        if unit and unit != actor.unit:
            raise ApiError(403, f"your unit {actor.unit} may only list its own tickets")
        unit = actor.unit
    if district:
        found = directory.find(district, tier=Tier.district)
        if found is None:
            raise ApiError(422, f"unknown district {district!r}")
        district = found.id

    def run(session: Session) -> TicketPage:
        query = select(TicketRow)
        if status_:
            query = query.where(TicketRow.stage == status_.value)
        if unit:
            query = query.where(
                col(TicketRow.number).in_(select(TicketUnitRow.number).where(TicketUnitRow.unit == unit))
            )
        if district:
            query = query.where(TicketRow.district == district)
        if category:
            query = query.where(TicketRow.category == category)
        if urgency:
            query = query.where(TicketRow.urgency == urgency.value)
        if tier:
            query = query.where(TicketRow.tier == tier.value)
        if overdue is not None:
            query = query.where(TicketRow.overdue == overdue)
        newest_first = query.order_by(col(TicketRow.received_at).desc(), col(TicketRow.number).desc())
        total, rows = db.page(session, newest_first, page, page_size)
        return TicketPage(items=[TicketListItem.of(r) for r in rows], total=total, page=page, page_size=page_size)

    return await db.in_thread(run, session)
