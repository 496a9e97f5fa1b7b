"""Rules of returns (退单) and reassignment (改派): the lead says "not ours" with a reason, within the
pack's window; the center approves (reassign) or rejects (same unit, same deadline). A second
return on the same ticket, or a rejected return the unit disputes, goes to consultation instead.
After a ruling, no ruled unit may return it (首接负责，不予回退)."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.deadlines.escalation import ACTIVE_STAGES
from domain.errors import conflict, forbidden, invalid
from domain.handling import check_open, check_unit
from domain.ticket import Actor, ReturnRequest, TicketState, UnitInfo
from domain.vocabulary import REVIEWING_ROLES, Stage

# A command's unit fields hold unit ids; a caller that names units (the API) declares those
# fields itself and resolves them, the rest comes from the command's *Fields model.


class AskReturnFields(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class AskReturn(AskReturnFields):
    actor: Actor
    suggested_unit: str | None = Field(default=None, description="who the unit thinks owns it")


class DecideReturnFields(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=1000)


class DecideReturn(DecideReturnFields):
    actor: Actor
    reassign_to: str | None = Field(default=None, description="unit id; default: the next candidate")


class DisputeReturnFields(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class DisputeReturn(DisputeReturnFields):
    actor: Actor


def ruled_units(s: TicketState) -> set[str]:
    return {s.ruling.lead, *s.ruling.cooperating} if s.ruling else set()


def check_ask(
    s: TicketState, a: AskReturn, window_ends: datetime | None, first_responsible_may_return: bool, now: datetime
) -> None:
    check_open(s)
    check_unit(s, a.actor, {s.lead_unit}, "return a ticket")
    if (r := s.ruling) is not None and a.actor.unit in ruled_units(s):
        raise conflict(f"ruled: {r.by} ruled on {r.at:%Y-%m-%d} that {s.name_of(r.lead)} leads this ticket; no return")
    if s.stage not in ACTIVE_STAGES:
        raise conflict(f"ticket {s.number} is in stage {s.stage}: it can no longer be returned")
    if s.pending_return is not None:
        raise conflict("a return request is already waiting for the center's review")
    if s.open_consultation is not None:
        raise conflict("who owns this ticket is being settled in a consultation")
    if not first_responsible_may_return and a.actor.unit == s.first_responsible_unit:
        raise forbidden(
            "首接负责，不予回退: under this city's rules the first-responsible unit may not return the ticket"
        )
    if window_ends is not None and now > window_ends:
        raise conflict(f"a return must be asked for by {window_ends.isoformat()} (the pack's window after dispatch)")
    if a.suggested_unit == s.lead_unit:
        raise invalid("a unit cannot suggest itself")


def ask(s: TicketState, a: AskReturn, now: datetime) -> ReturnRequest:
    """Records the request; a second return on the same ticket goes to consultation, not review."""
    second = any(r.status != "pending" for r in s.returns)
    req = ReturnRequest(
        unit=a.actor.unit or "", reason=a.reason, suggested_unit=a.suggested_unit, at=now,
        status="to_consultation" if second else "pending",
    )  # fmt: skip
    s.returns.append(req)
    s.record(now, a.actor.label, "return_requested", a.reason, suggested_unit=a.suggested_unit, second=second)
    if not second:
        s.flag("return_pending")
    return req


def check_decide(s: TicketState, d: DecideReturn) -> None:
    check_open(s)
    if d.actor.role not in REVIEWING_ROLES:
        raise forbidden("only the 12345 center reviews returns")
    if s.pending_return is None:
        raise conflict(f"no return request is waiting on ticket {s.number}")
    if d.approve and d.reassign_to == s.lead_unit:
        raise invalid("an approved return must go to another unit")


def next_candidate(s: TicketState) -> str | None:
    """The next unit from the responsibility list that has not had the ticket yet."""
    tried = {s.lead_unit, *s.previous_leads}
    pending = s.pending_return
    if pending and pending.suggested_unit and pending.suggested_unit not in tried:
        return pending.suggested_unit
    return next((u for u in s.candidates if u not in tried), None)


def reject(s: TicketState, d: DecideReturn, now: datetime) -> None:
    req = s.pending_return
    assert req is not None, "check_decide ensures a pending return"
    req.status, req.decided_by, req.decided_at, req.note = "rejected", d.actor.label, now, d.note
    s.unflag("return_pending")
    s.record(now, d.actor.label, "return_rejected", d.note or f"{s.name_of(s.lead_unit)} keeps the ticket")


def approve(s: TicketState, d: DecideReturn, target: str, now: datetime) -> None:
    req = s.pending_return
    assert req is not None, "check_decide ensures a pending return"
    req.status, req.decided_by, req.decided_at, req.note = "approved", d.actor.label, now, d.note
    req.reassigned_to = target
    s.unflag("return_pending")
    s.record(now, d.actor.label, "return_approved", d.note or f"reassigned to {s.name_of(target)}", unit=target)


def check_dispute(s: TicketState, d: DisputeReturn) -> None:
    check_open(s)
    check_unit(s, d.actor, {s.lead_unit}, "dispute a return decision")
    last = s.returns[-1] if s.returns else None
    if last is None or last.status != "rejected" or last.unit != d.actor.unit:
        raise conflict("only a rejected return of your own can be disputed")
    if s.open_consultation is not None:
        raise conflict("a consultation is already open on this ticket")
    if d.actor.unit in ruled_units(s):
        raise conflict("ruled: the ruling is binding")


def dispute(s: TicketState, d: DisputeReturn, now: datetime) -> None:
    s.returns[-1].status = "disputed"
    s.record(now, d.actor.label, "return_disputed", d.reason)


def reassign(s: TicketState, to: UnitInfo, via: str, now: datetime) -> str:
    """改派: the ticket moves to another lead, who must sign for it. Returns the old lead."""
    old = s.lead_unit
    if old and old != to.id:
        s.previous_leads.append(old)
    s.lead_unit = to.id
    s.escalation_chain = to.escalation_chain
    s.escalation_tiers = to.escalation_tiers
    s.escalation_level = 0
    s.coordinator_unit = None
    s.tier = to.escalation_tiers[0]
    s.unit_names.update(to.unit_names)
    s.cooperating.pop(to.id, None)
    s.acknowledged_at = None
    s.dispatched_at = now
    if s.stage in (Stage.handling, Stage.dispatch):
        s.stage = Stage.dispatch
    s.record(now, "system", "reassigned", f"{s.name_of(old)} → {to.name} ({via})", unit=to.id, previous=old, via=via)
    return old or ""
