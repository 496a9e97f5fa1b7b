"""Rules of the ruling (领导坐诊 / 终诊): a center leader names the lead and cooperating units with a
reason. It is binding, and it can be saved as a responsibility rule for the category and area so
the next such ticket goes straight to the right unit (Longkou: settle it once, for the kind)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from domain.deadlines.escalation import ACTIVE_STAGES
from domain.errors import conflict, forbidden, invalid
from domain.handling import check_open
from domain.ticket import Actor, Ruling, TicketState
from domain.vocabulary import Role


class IssueRulingFields(BaseModel):
    reason: str = Field(min_length=2, max_length=2000)
    save_as_rule: bool = Field(default=False, description="route the next such ticket in this area the same way")
    area: Literal["street", "district"] = Field(default="street", description="where a saved rule applies")


class IssueRuling(IssueRulingFields):
    actor: Actor
    lead: str
    cooperating: list[str] = Field(default=[], max_length=20)


class ResponsibilityRule(BaseModel):
    """A saved ruling: tickets of this category in this area go to `lead` (with `cooperating`)."""

    category: str
    area: str  # a street or district unit id
    lead: str
    cooperating: list[str] = []
    ticket: str
    ruled_by: str
    reason: str


def check_ruling(s: TicketState, r: IssueRuling) -> None:
    check_open(s)
    if r.actor.role != Role.leader:
        raise forbidden("only a center leader issues a binding ruling (领导坐诊)")
    if s.stage not in ACTIVE_STAGES:
        raise conflict(f"ticket {s.number} is in stage {s.stage}: ownership is no longer open")
    if s.ruling is not None:
        raise conflict(f"ruled: ticket {s.number} already has a binding ruling")
    if r.lead in r.cooperating:
        raise invalid("the lead unit cannot also be a cooperating unit")


def record(s: TicketState, r: IssueRuling, now: datetime) -> Ruling:
    s.ruling = Ruling(
        by=r.actor.label, at=now, lead=r.lead, cooperating=list(dict.fromkeys(r.cooperating)),
        reason=r.reason, saved_as_rule=r.save_as_rule,
    )  # fmt: skip
    s.flag("ruled")
    names = "、".join(s.name_of(u) for u in r.cooperating) or "none"
    s.record(now, r.actor.label, "ruled", f"lead {s.name_of(r.lead)}, cooperating {names}: {r.reason}",
             lead=r.lead, cooperating=r.cooperating)  # fmt: skip
    return s.ruling
