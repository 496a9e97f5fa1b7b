"""The deadline engine: starting, moving and firing a ticket's clocks.

Pure functions over `Clock` values. The workflow owns one timer at a time: it sleeps until
`next_wake()` or until something changes, then asks `fire_due()` what came due. A clock that
moves is recomputed in place, so no second timer ever ticks for the same deadline."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from pydantic import BaseModel, Field

from domain.deadlines.calendar import CHINA_TZ, WorkCalendar
from domain.errors import conflict, forbidden, invalid
from domain.policy import BreachStep, ClockName, ClockRule, Limit, PolicyPack
from domain.ticket import Actor, Clock, TicketState, clock_key
from domain.vocabulary import Role


def add_limit(start: datetime, limit: Limit, calendar: WorkCalendar, civil_days: bool = False) -> tuple[datetime, bool]:
    """The moment a limit runs out, and whether the calendar behind it is only estimated.
    `civil_days`: a limit in days counts as the Civil Code counts a period (see PolicyPack.day_limits)."""
    if limit.working_days:
        if limit.amount == 0:
            return start, False
        return calendar.add_working_days(start, limit.amount)
    if civil_days and limit.unit == "days" and limit.amount > 0:
        _, due, estimated = calendar.add_calendar_days(start, limit.amount)
        return due, estimated
    return start + timedelta(seconds=limit.seconds()), False


def _civil(limit: Limit, pack: PolicyPack) -> bool:
    return pack.civil_days and limit.unit == "days" and limit.amount > 0


def start_time(
    rule: ClockRule, dispatched_at: datetime, acknowledged_at: datetime | None, limit: Limit, civil_days: bool = False
) -> datetime | None:
    """When a clock starts under the pack's rule; None while it waits for the acknowledgement."""
    if rule.starts == "acknowledge":
        return acknowledged_at
    if rule.starts == "next_day" and not limit.working_days and not (civil_days and limit.unit == "days"):
        # Working days, and days as the Civil Code counts them, already count from the day after
        # (期间开始之日不计算在内).
        local = dispatched_at.astimezone(CHINA_TZ)
        return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return dispatched_at


def start_clock(
    name: ClockName, limit: Limit, start: datetime, pack: PolicyPack, calendar: WorkCalendar, unit: str | None = None
) -> Clock:
    nominal = None
    if _civil(limit, pack):
        nominal, due, estimated = calendar.add_calendar_days(start, limit.amount)
    else:
        due, estimated = add_limit(start, limit, calendar)
    return Clock(
        name=name,
        unit=unit,
        limit=str(limit),
        started_at=start,
        due_at=due,
        warn_at=start + (due - start) * pack.warning_share,
        estimated=estimated,
        nominal_due=nominal,
    )


def extend_clock(clock: Clock, by: Limit, pack: PolicyPack, calendar: WorkCalendar) -> Clock:
    """An approved extension: the due time moves later by `by`, the warning moves with it.
    Under the Civil Code reading the extra days count from the day after the current due day."""
    nominal = None
    if _civil(by, pack):
        nominal, due, estimated = calendar.add_calendar_days(clock.due_at, by.amount)
    else:
        due, estimated = add_limit(clock.due_at, by, calendar)
    return clock.model_copy(
        update={
            "due_at": due,
            "warn_at": clock.started_at + (due - clock.started_at) * pack.warning_share,
            "estimated": clock.estimated or estimated,
            "nominal_due": nominal,
            "limit": f"{clock.limit}+{by}",
            "warned_at": None,
            "breached_at": None,
            "steps_done": 0,
        }
    )


def pause_clock(clock: Clock, at: datetime) -> Clock:
    return clock if clock.paused_at or clock.met_at else clock.model_copy(update={"paused_at": at})


def counts_working_days(clock: Clock) -> bool:
    """The clock runs on working days: its base limit is in working days ("5wd", "5wd+2wd")."""
    base = clock.limit.split("+", 1)[0]
    try:
        return Limit.model_validate(base).working_days
    except ValueError:
        return False


def resume_clock(clock: Clock, at: datetime, calendar: WorkCalendar | None = None) -> Clock:
    """A paused clock gets back the time it had left when it was paused.

    A working-day clock gets back its working time: the part of [paused, due] on working days,
    counted again from `at` over working days only, so a pause across a holiday neither costs
    the unit the holiday nor lands the deadline on a day off. A day limit read as the Civil Code
    reads it moves its nominal end by the pause and then past days off again. Other clocks (hours)
    move by the wall time paused. A clock paused after its deadline moves by the wall time paused.
    Without a calendar every clock moves by the wall time paused."""
    if not clock.paused_at:
        return clock
    paused = clock.paused_at
    gap = at - paused
    due, warn, nominal, estimated = clock.due_at + gap, clock.warn_at + gap, clock.nominal_due, clock.estimated
    if calendar is not None and clock.due_at > paused:
        if counts_working_days(clock):
            due, est = calendar.add_working_time(at, calendar.working_time_between(paused, clock.due_at))
            estimated = estimated or est
            if clock.warn_at > paused:
                warn = calendar.add_working_time(at, calendar.working_time_between(paused, clock.warn_at))[0]
        elif clock.nominal_due is not None:
            nominal = clock.nominal_due + gap
            due, est = calendar.roll_to_working_day(nominal)
            estimated = estimated or est
    return clock.model_copy(
        update={
            "paused_at": None,
            "due_at": due,
            "warn_at": min(warn, due),
            "nominal_due": nominal,
            "estimated": estimated,
            "breached_at": clock.breached_at + gap if clock.breached_at else None,
        }
    )


@dataclass(frozen=True)
class ClockEvent:
    clock: ClockName
    kind: str  # "warning" | "breach" | "step"
    at: datetime  # when it was due (not when the worker noticed)
    step: BreachStep | None = None
    unit: str | None = None  # for a unit's own clock (report)

    @property
    def key(self) -> str:
        return clock_key(self.clock, self.unit)


def _step_time(clock: Clock, step: BreachStep, calendar: WorkCalendar) -> datetime:
    assert clock.breached_at is not None
    return add_limit(clock.breached_at, step.after, calendar)[0]


def _pending(clock: Clock, rule: ClockRule, calendar: WorkCalendar) -> ClockEvent | None:
    """The next thing this clock will do, if anything."""
    if not clock.running:
        return None
    if clock.breached_at is None:
        if clock.warned_at is None and clock.warn_at < clock.due_at:
            return ClockEvent(clock.name, "warning", clock.warn_at, unit=clock.unit)
        return ClockEvent(clock.name, "breach", clock.due_at, unit=clock.unit)
    if clock.steps_done < len(rule.on_breach):
        step = rule.on_breach[clock.steps_done]
        return ClockEvent(clock.name, "step", _step_time(clock, step, calendar), step, unit=clock.unit)
    return None


def next_wake(clocks: dict[str, Clock], pack: PolicyPack, calendar: WorkCalendar) -> datetime | None:
    times = [e.at for c in clocks.values() if (e := _pending(c, pack.rule_for(c.name), calendar))]
    return min(times) if times else None


def fire_due(clocks: dict[str, Clock], pack: PolicyPack, calendar: WorkCalendar, now: datetime) -> list[ClockEvent]:
    """Mark everything that came due by `now` and return it in the order it was due.
    After a worker outage the whole backlog fires at once, each event exactly once."""
    fired: list[ClockEvent] = []
    for clock in clocks.values():
        rule = pack.rule_for(clock.name)
        while (event := _pending(clock, rule, calendar)) and event.at <= now:
            if event.kind == "warning":
                clock.warned_at = event.at
            elif event.kind == "breach":
                clock.breached_at = event.at
                clock.warned_at = clock.warned_at or event.at
            else:
                clock.steps_done += 1
            fired.append(event)
    return sorted(fired, key=lambda e: (e.at, ["warning", "breach", "step"].index(e.kind)))


# -- the clocks of a ticket -------------------------------------------------------------------


def limit_of(name: ClockName, s: TicketState, pack: PolicyPack) -> Limit | None:
    req = s.request
    if name == ClockName.completion:
        return pack.completion_limit(req.urgency, req.kind, req.enterprise)
    return pack.clocks[name].limit_for(req.urgency, req.kind, req.enterprise)


def open_clocks(s: TicketState, pack: PolicyPack, calendar: WorkCalendar, dispatched_at: datetime) -> None:
    """At dispatch, every clock the pack gives this ticket starts, or waits for the acknowledgement."""
    for name, rule in pack.clocks.items():
        limit = limit_of(name, s, pack)
        if limit is None:
            continue
        start = start_time(rule, dispatched_at, None, limit, pack.civil_days)
        if start is not None:
            s.clocks[clock_key(name)] = start_clock(name, limit, start, pack, calendar)


def on_acknowledged(s: TicketState, pack: PolicyPack, calendar: WorkCalendar, at: datetime) -> None:
    """Clocks the pack starts at the acknowledgement (e.g. handling counted from sign-for)."""
    for name, rule in pack.clocks.items():
        if rule.starts == "acknowledge" and (limit := limit_of(name, s, pack)) is not None:
            s.clocks[clock_key(name)] = start_clock(name, limit, at, pack, calendar)


def restart_for_rehandle(s: TicketState, pack: PolicyPack, calendar: WorkCalendar, at: datetime) -> None:
    """A rehandle round: sign-for and completion run again, completion on the pack's rehandle limit."""
    for name in (ClockName.acknowledge, ClockName.completion):
        limit = limit_of(name, s, pack)
        if name == ClockName.completion and pack.rehandle.limit is not None:
            limit = pack.rehandle.limit
        if limit is not None and pack.clocks[name].starts != "acknowledge":
            s.clocks[clock_key(name)] = start_clock(name, limit, at, pack, calendar)
        else:
            s.clocks.pop(clock_key(name), None)


def start_report_clock(s: TicketState, unit: str, pack: PolicyPack, calendar: WorkCalendar, at: datetime) -> None:
    """A summoned or cooperating unit must report (sign for its part) within the pack's limit."""
    s.clocks[clock_key(ClockName.report, unit)] = start_clock(
        ClockName.report, pack.whistle.acknowledge_within, at, pack, calendar, unit=unit
    )


def on_reassigned(s: TicketState, pack: PolicyPack, calendar: WorkCalendar, at: datetime) -> None:
    """A new lead signs for the ticket on a fresh sign-for clock; the completion clock restarts or
    keeps its due time, as the pack says."""
    for name in (ClockName.acknowledge, ClockName.completion):
        if name == ClockName.completion and pack.returns.clocks_on_reassign == "keep" and clock_key(name) in s.clocks:
            continue
        limit = limit_of(name, s, pack)
        if limit is not None and pack.clocks.get(name) and pack.clocks[name].starts != "acknowledge":
            s.clocks[clock_key(name)] = start_clock(name, limit, at, pack, calendar)


def pause_all(s: TicketState, at: datetime) -> None:
    for key, clock in s.clocks.items():
        s.clocks[key] = pause_clock(clock, at)


def resume_all(s: TicketState, at: datetime, calendar: WorkCalendar | None = None) -> None:
    for key, clock in s.clocks.items():
        s.clocks[key] = resume_clock(clock, at, calendar)


# -- a new calendar for an open ticket --------------------------------------------------------


class ApplyCalendar(BaseModel):
    """The center applies a calendar (next year's official schedule) to an open ticket."""

    actor: Actor
    calendar: WorkCalendar
    note: str = Field(default="", max_length=500)  # e.g. the State Council notice it comes from


@dataclass(frozen=True)
class MovedDeadline:
    key: str  # clock_key()
    clock: ClockName
    unit: str | None
    before: datetime
    after: datetime
    estimated: bool  # still an estimate under the new calendar


def check_apply_calendar(s: TicketState, cmd: ApplyCalendar) -> None:
    if cmd.actor.role != Role.center:
        raise forbidden("only the center applies a calendar to open tickets")
    if s.closed_at is not None:
        raise conflict(f"ticket {s.number} is closed")
    if not cmd.calendar.years:
        raise invalid("the calendar has no years")


def _next_midnight(ts: datetime) -> datetime:
    return datetime.combine(ts.astimezone(CHINA_TZ).date() + timedelta(days=1), time(0), tzinfo=CHINA_TZ)


def _retimed_due(clock: Clock, old: WorkCalendar, new: WorkCalendar) -> tuple[datetime, bool] | None:
    if counts_working_days(clock):
        # The same working time as under the old calendar, counted from the day after the start
        # (期间开始之日不计算在内): extensions and pauses the clock had stay in it.
        anchor = _next_midnight(clock.started_at)
        return new.add_working_time(anchor, old.working_time_between(anchor, clock.due_at))
    if clock.nominal_due is not None:
        return new.roll_to_working_day(clock.nominal_due)
    return None  # hours: no calendar in them


def retime(
    s: TicketState, pack: PolicyPack, old: WorkCalendar, new: WorkCalendar, now: datetime, actor: str = "center"
) -> list[MovedDeadline]:
    """Re-time every running deadline of the ticket that was only estimated, on `new` (the ticket's
    calendar updated with the official schedule). A deadline that moves gets a timeline line
    (deadline_moved); one that stays but is no longer an estimate gets deadline_confirmed.
    Deadlines that were not estimated are left alone. Returns the deadlines that moved."""
    moved: list[MovedDeadline] = []
    for key, clock in s.clocks.items():
        if clock.met_at is not None or not clock.estimated:
            continue
        retimed = _retimed_due(clock, old, new)
        if retimed is None:
            continue
        due, estimated = retimed
        update: dict = {"estimated": estimated}
        if due != clock.due_at:
            warn = clock.started_at + (due - clock.started_at) * pack.warning_share
            update |= {"due_at": due, "warn_at": warn}
            if clock.warned_at and warn > now:
                update["warned_at"] = None
            if clock.breached_at and due > now:
                update |= {"breached_at": None, "steps_done": 0}
        s.clocks[key] = clock.model_copy(update=update)
        what = clock.name.value + (f" of {s.name_of(clock.unit)}" if clock.unit else "")
        state = "still estimated" if estimated else "official calendar"
        data = {"clock": clock.name.value, "due_at": s.clocks[key].due_at.isoformat(), "estimated": estimated,
                **({"unit": clock.unit} if clock.unit else {})}  # fmt: skip
        if due != clock.due_at:
            s.record(now, actor, "deadline_moved", f"{what} now due {due.isoformat()} (was {clock.due_at.isoformat()}; "
                     f"{state})", was=clock.due_at.isoformat(), **data)  # fmt: skip
            moved.append(MovedDeadline(key, clock.name, clock.unit, clock.due_at, due, estimated))
        elif not estimated:
            s.record(now, actor, "deadline_confirmed", f"{what} due {due.isoformat()} stands ({state})", **data)
    if not any(c.estimated and c.met_at is None for c in s.clocks.values()):
        s.unflag("estimated_deadline")
    return moved
