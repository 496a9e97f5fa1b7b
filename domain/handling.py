"""Rules of handling (办理): acknowledge, progress notes, completion. Each action has a check
(the update's validator: refuses with the reason, leaves no trace) and an apply (the handler)."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.errors import conflict, forbidden, invalid
from domain.policy import ClockName
from domain.ticket import Actor, Completion, TicketState, clock_key
from domain.vocabulary import HandlingResult, Role, Stage

HANDLING_STAGES = (Stage.handling, Stage.rehandle)


class Acknowledge(BaseModel):
    actor: Actor


# Each command is its fields (what a caller sends, e.g. an API body) plus the actor who sends it.


class ProgressNoteFields(BaseModel):
    note: str = Field(min_length=1, max_length=2000)
    contacted_citizen: bool = False  # the unit has talked to the citizen (the contact clock)


class ProgressNote(ProgressNoteFields):
    actor: Actor


class CompleteFields(BaseModel):
    result: HandlingResult
    reply: str = Field(min_length=2, max_length=4000, description="The reply the citizen is given")
    parts_done: list[str] | None = Field(
        default=None, description="cooperating units whose part is done; default: those that reported"
    )


class Complete(CompleteFields):
    actor: Actor


class ReportPartFields(BaseModel):
    report: str = Field(min_length=2, max_length=4000)


class ReportPart(ReportPartFields):
    """A cooperating unit reports its part to the lead (协办反馈)."""

    actor: Actor


def check_open(s: TicketState) -> None:
    if s.stage == Stage.closed:
        raise conflict(f"ticket {s.number} is closed")
    if s.stage == Stage.follow_up:
        raise conflict(f"ticket {s.number} was transferred to an emergency service: the center follows it up")


def check_unit(s: TicketState, actor: Actor, allowed: set[str | None], what: str) -> None:
    if actor.role != Role.unit or not actor.unit:
        raise forbidden(f"only a handling unit can {what}")
    if s.stage == Stage.intake or s.lead_unit is None:
        raise conflict(f"ticket {s.number} is being dispatched; retry in a moment")
    if actor.unit not in allowed:
        lead = s.name_of(s.lead_unit)
        raise forbidden(f"your unit {actor.unit} does not handle ticket {s.number}; it is led by {lead}")


def handlers(s: TicketState) -> set[str | None]:
    """Who may act as the handler: the lead unit and, once escalated, the coordinator above it."""
    return {s.lead_unit, s.coordinator_unit} - {None}


def check_acknowledge(s: TicketState, actor: Actor) -> None:
    check_open(s)
    if actor.role == Role.unit and actor.unit in s.cooperating and actor.unit != s.lead_unit:
        if s.cooperating[actor.unit].acknowledged_at is not None:
            raise conflict(f"{s.name_of(actor.unit)} has already reported for ticket {s.number}")
        return  # a summoned or cooperating unit reports (报到)
    check_unit(s, actor, {s.lead_unit}, "acknowledge a ticket")
    if s.acknowledged_at is not None:
        raise conflict(f"ticket {s.number} was already acknowledged")
    if s.stage not in (Stage.dispatch, Stage.rehandle):
        raise conflict(f"ticket {s.number} is in stage {s.stage}: nothing to acknowledge")


def acknowledge(s: TicketState, actor: Actor, now: datetime) -> None:
    if actor.unit in s.cooperating and actor.unit != s.lead_unit:
        s.cooperating[actor.unit].acknowledged_at = now
        meet(s, clock_key(ClockName.report, actor.unit), now)
        s.record(now, actor.label, "reported", f"{s.name_of(actor.unit)} reported as cooperating unit")
        return
    s.acknowledged_at = now
    if s.stage == Stage.dispatch:
        s.stage = Stage.handling
    meet(s, ClockName.acknowledge, now)
    s.record(now, actor.label, "acknowledged", f"{s.name_of(actor.unit)} signed for the ticket")


def check_progress(s: TicketState, actor: Actor) -> None:
    check_open(s)
    check_unit(s, actor, handlers(s), "add a progress note")
    if s.stage not in HANDLING_STAGES or s.acknowledged_at is None:
        raise conflict(f"ticket {s.number} must be acknowledged before progress is reported (stage {s.stage})")


def progress(s: TicketState, note: ProgressNote, now: datetime) -> None:
    meet(s, ClockName.first_feedback, now)
    if note.contacted_citizen:
        meet(s, ClockName.contact, now)
    s.record(now, note.actor.label, "progress", note.note, contacted_citizen=note.contacted_citizen)


def check_complete(s: TicketState, actor: Actor, parts_done: list[str] | None = None) -> None:
    check_open(s)
    check_unit(s, actor, handlers(s), "complete a ticket")
    if s.open_consultation is not None:
        raise conflict("who owns this ticket is being settled in a consultation; complete it after")
    if s.pending_return is not None:
        raise conflict("a return request is waiting for the center's review")
    unknown = sorted(set(parts_done or []) - set(s.cooperating))
    if unknown:
        raise invalid(f"not cooperating units of this ticket: {', '.join(unknown)}")
    if s.completion is not None or s.stage == Stage.callback:
        raise conflict(f"ticket {s.number} is already completed")
    if s.stage not in HANDLING_STAGES or s.acknowledged_at is None:
        raise conflict(f"ticket {s.number} must be acknowledged before it is completed (stage {s.stage})")


def complete(s: TicketState, c: Complete, now: datetime) -> None:
    parts = c.parts_done if c.parts_done is not None else [u for u, co in s.cooperating.items() if co.report]
    s.completion = Completion(unit=c.actor.unit or "", result=c.result, reply=c.reply, at=now, parts_done=parts)
    for key in list(s.clocks):
        meet(s, key, now)
    s.record(now, c.actor.label, "completed", c.reply, result=c.result.value)


def check_report(s: TicketState, r: ReportPart) -> None:
    check_open(s)
    if r.actor.role != Role.unit or r.actor.unit not in s.cooperating:
        raise forbidden(f"only cooperating units of ticket {s.number} report a part")
    if s.cooperating[r.actor.unit].acknowledged_at is None:
        raise conflict("acknowledge (report for duty) before reporting your part")
    if s.stage not in HANDLING_STAGES + (Stage.dispatch,):
        raise conflict(f"ticket {s.number} is in stage {s.stage}: the handling is over")


def report(s: TicketState, r: ReportPart, now: datetime) -> None:
    assert r.actor.unit is not None, "check_report admits only cooperating units"
    co = s.cooperating[r.actor.unit]
    co.report, co.reported_at = r.report, now
    s.record(now, r.actor.label, "part_reported", r.report, unit=r.actor.unit)


def meet(s: TicketState, key: str, now: datetime) -> None:
    """A clock is met (its deadline kept, or its purpose gone). `key` from clock_key()."""
    clock = s.clocks.get(key)
    if clock and clock.met_at is None:
        clock.met_at = now
