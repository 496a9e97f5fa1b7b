"""What the API shows: list rows from the read model, and who may see a ticket."""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from domain.errors import forbidden
from domain.ticket import Actor, TicketFacts, TicketState
from domain.vocabulary import Role
from readmodel.db import aware
from readmodel.tables import TicketRow

T = TypeVar("T")


# What a list row does not show of TicketFacts: the read-model row has no units or `supervised`
# column (units are filtered on with ?unit=, supervision is a flag), and the rest is not listed.
_NOT_LISTED = ("units", "supervised", "extension_count", "policy_pack", "policy_version")


class TicketListItem(TicketFacts):
    """One ticket in a list: the flat view of the ticket, read back from its read-model row."""

    units: list[str] = Field(default=[], exclude=True)
    supervised: bool = Field(default=False, exclude=True)
    extension_count: int = Field(default=0, exclude=True)
    policy_pack: str | None = Field(default=None, exclude=True)
    policy_version: str | None = Field(default=None, exclude=True)

    @classmethod
    def of(cls, row: TicketRow) -> "TicketListItem":
        listed = set(cls.model_fields) - set(_NOT_LISTED)
        return cls(
            **row.model_dump(include=listed - {"flags", "deadline", "received_at", "closed_at"}),
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
