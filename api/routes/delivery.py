"""Deliveries as the center sees them: every work order, copy, reminder, escalation and callback
request with its status (delivered, queued, retrying, failed), attempts and last error."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from api.deps import ActorDep, ClientDep, SessionDep, SupervisingActor, UnitActor
from api.errors import ApiError
from api.params import PageNumber, PageSize
from api.views import Page
from api.workflow_calls import update
from domain.contracts import DeliveryKind
from domain.delivery import ResendDelivery, ResendFields
from domain.privacy import scrub_phones
from domain.ticket import TicketState, TicketSummary
from domain.vocabulary import Role, Stage
from readmodel import db
from readmodel.db import aware
from readmodel.tables import DeliveryRow, TicketRow, TicketUnitRow
from readmodel.tickets import OPEN_STAGES
from workflows.ticket import TicketWorkflow

router = APIRouter(tags=["deliveries"])

DeliveryStatus = Literal["delivered", "queued", "retrying", "failed"]


class DeliveryView(BaseModel):
    idempotency_key: str
    ticket: str
    sequence: int
    unit: str
    kind: str
    channel: str
    status: str
    attempts: int
    detail: str
    last_error: str | None
    reference: str | None
    created_at: datetime
    updated_at: datetime | None
    delivered_at: datetime | None

    @classmethod
    def of(cls, row: DeliveryRow) -> "DeliveryView":
        data = row.model_dump(exclude={"id", "created_at", "updated_at", "delivered_at", "detail", "last_error"})
        return cls(
            **data,
            # A department's error text may quote the work order: no phone number leaves in it.
            detail=scrub_phones(row.detail),
            last_error=scrub_phones(row.last_error) if row.last_error else None,
            created_at=aware(row.created_at),
            updated_at=aware(row.updated_at),
            delivered_at=aware(row.delivered_at),
        )


class DeliveryPage(Page[DeliveryView]):
    pass


@router.get("/deliveries", response_model=DeliveryPage, summary="Deliveries and their status, from the read model")
async def list_deliveries(
    actor: ActorDep,
    session: SessionDep,
    ticket: str | None = None,
    unit: Annotated[str | None, Query(description="receiving unit id")] = None,
    status: DeliveryStatus | None = None,
    kind: DeliveryKind | None = None,
    page: PageNumber = 1,
    page_size: PageSize = 50,
) -> DeliveryPage:
    if actor.role == Role.intake:
        raise ApiError(403, "role intake may not list deliveries (allowed: supervisor, center, leader, unit)")
    if actor.role == Role.unit:
        if unit and unit != actor.unit:
            raise ApiError(403, f"your unit {actor.unit} may only list its own deliveries")
        unit = actor.unit

    def run(session: Session) -> DeliveryPage:
        query = select(DeliveryRow)
        for column, value in ((DeliveryRow.ticket, ticket), (DeliveryRow.unit, unit), (DeliveryRow.status, status)):
            if value:
                query = query.where(column == value)
        if kind:
            query = query.where(DeliveryRow.kind == kind.value)
        newest_first = query.order_by(col(DeliveryRow.created_at).desc(), col(DeliveryRow.id).desc())
        total, rows = db.page(session, newest_first, page, page_size)
        return DeliveryPage(items=[DeliveryView.of(r) for r in rows], total=total, page=page, page_size=page_size)

    return await db.in_thread(run, session)


# -- recovery: a department system that lost its state resynchronises; the center re-sends -------

Expectation = Literal["acknowledge", "progress", "complete", "report_part"]


class OpenWorkOrder(BaseModel):
    """An open ticket the unit takes part in, and what the hotline still expects from it."""

    ticket: str
    role: str = Field(description="lead | coordinator | cooperating | supervisor")
    stage: str
    deadline: datetime | None
    acknowledged: bool
    expects: list[Expectation] = Field(
        description="what the unit still has to do, through the hotline's API: acknowledge (签收), then "
        "complete (办结); a cooperating unit: acknowledge, then report_part. Empty: nothing now (supervising, "
        "or waiting for the center or the citizen)"
    )
    work_order_sequence: int | None = Field(
        description="the sequence of the last work order sent to the unit: POST /deliveries/{ticket}-{sequence}"
        "/resend has the center send it again (same Idempotency-Key)"
    )


class OpenWorkOrders(BaseModel):
    unit: str
    items: list[OpenWorkOrder]


def expectations(s: TicketState, unit: str) -> tuple[str, bool, list[Expectation]] | None:
    """The unit's part in an open ticket and what it still owes; None if it has none."""
    handling = s.stage in (Stage.dispatch, Stage.handling, Stage.rehandle)
    if unit in (s.lead_unit, s.coordinator_unit) and unit is not None:
        role = "lead" if unit == s.lead_unit else "coordinator"
        acknowledged = s.acknowledged_at is not None
        expects: list[Expectation] = []
        if handling and s.completion is None:
            expects = ["complete"] if acknowledged or role == "coordinator" else ["acknowledge", "complete"]
        return role, acknowledged, expects
    if unit in s.cooperating:
        part = s.cooperating[unit]
        acknowledged = part.acknowledged_at is not None
        if not handling or part.report is not None:
            return "cooperating", acknowledged, []
        return "cooperating", acknowledged, ["report_part"] if acknowledged else ["acknowledge", "report_part"]
    if unit == s.supervisor_unit:
        return "supervisor", False, []
    return None


@router.get(
    "/work-orders", response_model=OpenWorkOrders,
    summary="A unit's open work orders and what each still expects from it (resynchronise after a loss)",
)  # fmt: skip
async def open_work_orders(actor: UnitActor, session: SessionDep) -> OpenWorkOrders:
    """For a department system that lost its state (a restore, a crash): every open ticket its
    unit leads, coordinates, cooperates on or supervises, from the read model, with what the
    hotline still expects. Work the list: acknowledge and complete through the usual routes, or
    have the center re-send a work order to receive it again."""
    unit = actor.unit
    assert unit is not None  # a unit token names its unit

    def run(session: Session) -> OpenWorkOrders:
        rows = session.exec(
            select(TicketRow)
            .where(col(TicketRow.stage).in_(OPEN_STAGES))
            .where(col(TicketRow.number).in_(select(TicketUnitRow.number).where(TicketUnitRow.unit == unit)))
            .order_by(col(TicketRow.received_at), col(TicketRow.number))
        ).all()
        numbers = [r.number for r in rows]
        orders: dict[str, int] = {}
        if numbers:
            sent = session.exec(
                select(DeliveryRow.ticket, DeliveryRow.sequence)
                .where(col(DeliveryRow.ticket).in_(numbers), DeliveryRow.unit == unit)
                .where(col(DeliveryRow.kind).in_(WORK_ORDER_KINDS))
            ).all()
            for ticket, sequence in sent:
                orders[ticket] = max(sequence, orders.get(ticket, 0))
        items = []
        for row in rows:
            state = TicketState.model_validate_json(row.state_json)
            part = expectations(state, unit)
            if part is None:
                continue
            role, acknowledged, expects = part
            items.append(
                OpenWorkOrder(
                    ticket=row.number,
                    role=role,
                    stage=row.stage,
                    deadline=aware(row.deadline),
                    acknowledged=acknowledged,
                    expects=expects,
                    work_order_sequence=orders.get(row.number),
                )  # fmt: skip
            )
        return OpenWorkOrders(unit=unit, items=items)

    return await db.in_thread(run, session)


WORK_ORDER_KINDS = [DeliveryKind.work_order.value, DeliveryKind.rehandle.value, DeliveryKind.cooperation.value]


@router.post(
    "/deliveries/{key}/resend", response_model=TicketSummary,
    summary="Re-send a delivery (work order, notice, callback request) a system lost: same Idempotency-Key",
)  # fmt: skip
async def resend_delivery(
    key: str, actor: SupervisingActor, client: ClientDep, session: SessionDep, body: ResendFields | None = None
) -> TicketSummary:
    """The ticket sends it again in the background, under the same sequence: a system that still
    has it answers "duplicate" (nothing happens twice), one that lost it acts on it. A work order
    goes as the ticket now stands. The timeline says who re-sent it; GET /deliveries shows it."""

    def find(session: Session) -> DeliveryRow | None:
        return session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).first()

    row = await db.in_thread(find, session)
    if row is None:
        raise ApiError(404, f"no delivery {key!r} (see GET /deliveries?ticket=...)")
    if row.kind not in set(DeliveryKind):
        raise ApiError(422, f"delivery {key} has kind {row.kind!r}, which is not re-sent")
    command = ResendDelivery(
        actor=actor,
        sequence=row.sequence,
        unit=row.unit,
        kind=DeliveryKind(row.kind),
        **(body or ResendFields()).model_dump(),
    )
    return await update(client, row.ticket, TicketWorkflow.resend_delivery, command)
