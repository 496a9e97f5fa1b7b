"""Deliveries as the center sees them: every work order, copy, reminder, escalation and callback
request with its status (delivered, queued, retrying, failed), attempts and last error."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session, col, select

from api.deps import ActorDep, SessionDep
from api.errors import ApiError
from api.params import PageNumber, PageSize
from api.views import Page
from domain.contracts import DeliveryKind
from domain.privacy import scrub_phones
from domain.vocabulary import Role
from readmodel import db
from readmodel.db import aware
from readmodel.tables import DeliveryRow

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
