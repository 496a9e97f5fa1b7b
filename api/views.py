"""What the API shows: list rows from the read model, and who may see a ticket."""

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

from domain.errors import forbidden
from domain.privacy import Audience
from domain.ticket import Actor, TicketFacts, TicketState
from domain.vocabulary import Role, Stage
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


HANDLING_STAGES = (Stage.dispatch, Stage.handling, Stage.rehandle)


def audiences(actor: Actor, s: TicketState) -> set[Audience]:
    """What the viewer is to this ticket, for the matrix of who sees the citizen (domain/privacy.py)."""
    if actor.role == Role.unit:
        seen: set[Audience] = set()
        if actor.unit in (s.lead_unit, s.coordinator_unit):
            seen.add(Audience.handling_unit if s.stage in HANDLING_STAGES else Audience.former_handling_unit)
        if actor.unit in s.cooperating:
            seen.add(Audience.cooperating_unit)
        if actor.unit == s.supervisor_unit:
            seen.add(Audience.supervising_unit)
        if s.open_consultation and actor.unit in s.open_consultation.candidates:
            seen.add(Audience.consulted_unit)
        return seen
    desk = {Audience.callback_desk} if s.stage == Stage.callback else set()
    if actor.role == Role.intake:
        return desk or {Audience.intake_desk if s.stage == Stage.intake else Audience.intake_desk_after_intake}
    if actor.role == Role.center:
        return {Audience.center} | desk
    if actor.role == Role.supervisor:
        return {Audience.supervisor}
    if actor.role == Role.leader:
        return {Audience.leader}
    return set()


def citizen_view(actor: Actor, s: TicketState, in_clear: set[Audience], from_read_model: bool = False) -> TicketState:
    """The ticket as this viewer may see it: the citizen (and merged repeat callers) in clear only
    for an audience the city lets see them; the read model holds masked values anyway."""
    if from_read_model or not audiences(actor, s) & in_clear:
        return s.masked()
    return s
