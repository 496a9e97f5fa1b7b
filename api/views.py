"""What the API shows: list rows from the read model, and who may see a ticket."""

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel

from domain.errors import forbidden
from domain.ticket import Actor, TicketState
from domain.vocabulary import Role
from readmodel.db import aware
from readmodel.tables import TicketRow

T = TypeVar("T")


class TicketListItem(BaseModel):
    number: str
    stage: str
    tier: str
    category: str
    district: str | None
    street: str | None
    urgency: str
    kind: str
    channel: str
    enterprise: bool
    lead_unit: str | None
    supervisor_unit: str | None
    coordinator_unit: str | None
    deadline: datetime | None
    deadline_estimated: bool
    overdue: bool
    warned: bool
    urge_count: int
    flags: list[str]
    outcome: str | None
    intake_path: str | None
    repeat_count: int
    rehandle_round: int
    callback_attempt: int
    resolved: bool | None
    satisfaction: str | None
    received_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, row: TicketRow) -> "TicketListItem":
        data = row.model_dump(exclude={"state_json", "flags", "deadline", "received_at", "closed_at"})
        return cls(
            **data,
            flags=row.flags.split() if row.flags else [],
            deadline=aware(row.deadline),
            received_at=aware(row.received_at),
            closed_at=aware(row.closed_at),
        )


class Page(BaseModel, Generic[T]):
    """One page of a list from the read model."""

    items: list[T]
    total: int
    page: int
    page_size: int


class TicketPage(Page[TicketListItem]):
    pass


def involved_units(s: TicketState) -> set[str]:
    """Units that see the ticket: who handles, supervises, coordinates or cooperates, and the
    candidates of an open consultation (they must read it to answer)."""
    consulted = s.open_consultation.candidates if s.open_consultation else {}
    return {u for u in (s.lead_unit, s.supervisor_unit, s.coordinator_unit, *s.cooperating, *consulted) if u}


def check_can_view(actor: Actor, s: TicketState) -> None:
    if actor.role == Role.unit and actor.unit not in involved_units(s):
        raise forbidden(f"ticket {s.number} is not assigned to your unit {actor.unit}")
