"""Rules of extensions (延期): asked for by the handling unit before the deadline, decided by
the center, limited by the pack in number and length."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.errors import conflict, forbidden, invalid
from domain.handling import HANDLING_STAGES, check_open, check_unit, handlers
from domain.policy import ClockName, ExtensionRule, Limit
from domain.ticket import Actor, ExtensionRequest, TicketState
from domain.vocabulary import REVIEWING_ROLES, Stage

# For comparing a request with the pack's cap when one is in working days and the other is not.
_CALENDAR_DAYS_PER_WORKING_DAY = 7 / 5


class AskExtensionFields(BaseModel):
    by: Limit = Field(description='more time: "48h", "3d" or "5wd" (working days)', examples=["3d"])
    reason: str = Field(min_length=2, max_length=1000)


class AskExtension(AskExtensionFields):
    actor: Actor


class DecideExtensionFields(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=1000)


class DecideExtension(DecideExtensionFields):
    actor: Actor


def _comparable_days(limit: Limit) -> float:
    days = limit.seconds() / 86400
    return days * _CALENDAR_DAYS_PER_WORKING_DAY if limit.working_days else days


def check_ask(s: TicketState, a: AskExtension, rule: ExtensionRule, now: datetime) -> None:
    check_open(s)
    check_unit(s, a.actor, handlers(s), "ask for an extension")
    clock = s.clocks.get(ClockName.completion)
    if s.stage not in (Stage.dispatch, *HANDLING_STAGES) or clock is None or not clock.running:
        raise conflict(f"ticket {s.number} has no running deadline to extend")
    if clock.breached_at is not None or now >= clock.due_at:
        raise conflict(f"the deadline {clock.due_at.isoformat()} has passed: an extension must be asked for before it")
    if s.pending_extension is not None:
        raise conflict("an extension request is already waiting for the center's decision")
    granted = sum(1 for e in s.extensions if e.decision == "approved")
    if granted >= rule.max_count:
        raise conflict(f"this city allows {rule.max_count} extension(s) per ticket; {granted} already granted")
    if a.by.amount == 0:
        raise invalid("an extension must add some time")
    if _comparable_days(a.by) > _comparable_days(rule.max_each) + 1e-9:
        raise invalid(f"an extension may add at most {rule.max_each}; asked for {a.by}")


def ask(s: TicketState, a: AskExtension, now: datetime) -> None:
    s.extensions.append(ExtensionRequest(unit=a.actor.unit or "", by=str(a.by), reason=a.reason, at=now))
    s.record(now, a.actor.label, "extension_requested", f"+{a.by}: {a.reason}", by=str(a.by))


def check_decide(s: TicketState, d: DecideExtension) -> None:
    check_open(s)
    if d.actor.role not in REVIEWING_ROLES:
        raise forbidden("only the 12345 center decides extensions")
    if s.pending_extension is None:
        raise conflict(f"no extension request is waiting on ticket {s.number}")


def decide(s: TicketState, d: DecideExtension, now: datetime) -> ExtensionRequest:
    req = s.pending_extension
    assert req is not None
    req.decision = "approved" if d.approve else "rejected"
    req.decided_by, req.decided_at, req.note = d.actor.label, now, d.note
    s.record(now, d.actor.label, f"extension_{req.decision}", d.note or f"+{req.by}", by=req.by)
    return req
