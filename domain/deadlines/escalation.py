"""Rules of the actions around deadlines: the street's whistle (吹哨), a request to escalate
(提级), and urging (督办) by the sector supervisor or the center."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.errors import conflict, forbidden, invalid
from domain.handling import HANDLING_STAGES, check_open, check_unit
from domain.ticket import Actor, Cooperation, TicketState, Urge
from domain.vocabulary import SUPERVISING_ROLES, Role, Stage, Tier

ACTIVE_STAGES = (Stage.dispatch, *HANDLING_STAGES)


class WhistleFields(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class Whistle(WhistleFields):
    actor: Actor
    units: dict[str, str] = Field(description="unit id -> name of each summoned department")


class EscalationRequestFields(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class EscalationRequest(EscalationRequestFields):
    actor: Actor


class UrgeActionFields(BaseModel):
    note: str = Field(min_length=2, max_length=1000)


class UrgeAction(UrgeActionFields):
    actor: Actor


def _lead_is_street(s: TicketState) -> bool:
    return bool(s.escalation_tiers) and s.escalation_tiers[0] == Tier.street


def check_whistle(s: TicketState, w: Whistle) -> None:
    check_open(s)
    check_unit(s, w.actor, {s.lead_unit}, "whistle")
    if not _lead_is_street(s):
        raise forbidden("only a street office leading the ticket may whistle (吹哨)")
    if s.stage not in HANDLING_STAGES or s.acknowledged_at is None:
        raise conflict(f"acknowledge ticket {s.number} before summoning departments (stage {s.stage})")
    if not w.units:
        raise invalid("name at least one department to summon")
    if s.lead_unit in w.units:
        raise invalid("the street cannot summon itself")
    already = sorted(u for u in w.units if u in s.cooperating)
    if already:
        raise conflict(f"already cooperating on ticket {s.number}: {', '.join(already)}")


def whistle(s: TicketState, w: Whistle, now: datetime) -> None:
    for unit, name in w.units.items():
        s.cooperating[unit] = Cooperation(unit=unit, via="whistle", since=now)
        s.unit_names[unit] = name
    names = "、".join(w.units.values())
    s.record(now, w.actor.label, "whistled", f"{names}: {w.reason}", units=sorted(w.units))


def check_escalation_request(
    s: TicketState, r: EscalationRequest, street_may_request: bool, can_escalate: bool
) -> None:
    check_open(s)
    if r.actor.role == Role.unit:
        check_unit(s, r.actor, {s.lead_unit}, "ask to escalate")
        if not (_lead_is_street(s) and street_may_request):
            raise forbidden("under this city's rules only the center escalates this ticket")
        if s.escalation_level > 0:
            raise conflict(f"ticket {s.number} is already coordinated by {s.name_of(s.coordinator_unit)}")
    elif r.actor.role not in SUPERVISING_ROLES:
        raise forbidden(f"role {r.actor.role.value} may not escalate tickets")
    if s.stage not in ACTIVE_STAGES:
        raise conflict(f"ticket {s.number} is in stage {s.stage}: nothing to escalate")
    if not can_escalate:
        raise conflict(f"ticket {s.number} is already coordinated at the city tier")


def check_urge(s: TicketState, u: UrgeAction) -> None:
    check_open(s)
    a = u.actor
    if not (a.role in SUPERVISING_ROLES or (a.role == Role.unit and a.unit == s.supervisor_unit)):
        raise forbidden("only the sector supervisor of the ticket or the center may urge it")
    if s.stage not in ACTIVE_STAGES:
        raise conflict(f"ticket {s.number} is in stage {s.stage}: nothing to urge")


def urge(s: TicketState, u: UrgeAction, now: datetime) -> None:
    s.urges.append(Urge(by=u.actor.label, note=u.note, at=now))
    s.flag("urged")
    s.record(now, u.actor.label, "urged", u.note, count=len(s.urges))
