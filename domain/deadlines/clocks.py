"""The deadline engine: starting, moving and firing a ticket's clocks.

Pure functions over `Clock` values. The workflow owns one timer at a time: it sleeps until
`next_wake()` or until something changes, then asks `fire_due()` what came due. A clock that
moves is recomputed in place, so no second timer ever ticks for the same deadline."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.deadlines.calendar import CHINA_TZ, WorkCalendar
from domain.policy import BreachStep, ClockName, ClockRule, Limit, PolicyPack
from domain.ticket import Clock, TicketState, clock_key


def add_limit(start: datetime, limit: Limit, calendar: WorkCalendar) -> tuple[datetime, bool]:
    """The moment a limit runs out, and whether the calendar behind it is only estimated."""
    if limit.working_days:
        if limit.amount == 0:
            return start, False
        return calendar.add_working_days(start, limit.amount)
    return start + timedelta(seconds=limit.seconds()), False


def start_time(
    rule: ClockRule, dispatched_at: datetime, acknowledged_at: datetime | None, limit: Limit
) -> datetime | None:
    """When a clock starts under the pack's rule; None while it waits for the acknowledgement."""
    if rule.starts == "acknowledge":
        return acknowledged_at
    if rule.starts == "next_day" and not limit.working_days:
        # Working days already count from the day after (期间开始之日不计算在内).
        local = dispatched_at.astimezone(CHINA_TZ)
        return (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return dispatched_at


def start_clock(
    name: ClockName, limit: Limit, start: datetime, pack: PolicyPack, calendar: WorkCalendar, unit: str | None = None
) -> Clock:
    due, estimated = add_limit(start, limit, calendar)
    return Clock(
        name=name,
        unit=unit,
        limit=str(limit),
        started_at=start,
        due_at=due,
        warn_at=start + (due - start) * pack.warning_share,
        estimated=estimated,
    )


def extend_clock(clock: Clock, by: Limit, pack: PolicyPack, calendar: WorkCalendar) -> Clock:
    """An approved extension: the due time moves later by `by`, the warning moves with it."""
    due, estimated = add_limit(clock.due_at, by, calendar)
    return clock.model_copy(
        update={
            "due_at": due,
            "warn_at": clock.started_at + (due - clock.started_at) * pack.warning_share,
            "estimated": clock.estimated or estimated,
            "limit": f"{clock.limit}+{by}",
            "warned_at": None,
            "breached_at": None,
            "steps_done": 0,
        }
    )


def pause_clock(clock: Clock, at: datetime) -> Clock:
    return clock if clock.paused_at or clock.met_at else clock.model_copy(update={"paused_at": at})


def resume_clock(clock: Clock, at: datetime) -> Clock:
    """A paused clock resumes with the time it was paused added to it."""
    if not clock.paused_at:
        return clock
    gap = at - clock.paused_at
    return clock.model_copy(
        update={
            "paused_at": None,
            "due_at": clock.due_at + gap,
            "warn_at": clock.warn_at + gap,
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
        start = start_time(rule, dispatched_at, None, limit)
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


def resume_all(s: TicketState, at: datetime) -> None:
    for key, clock in s.clocks.items():
        s.clocks[key] = resume_clock(clock, at)
