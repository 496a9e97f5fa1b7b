"""Deadlines and escalation (提级): the ticket's clocks run one timer at a time; warnings come
before a deadline, and when it passes, the pack's ladder — reminder (催办), supervision (督办, a
flag) and escalation one tier up, street → district → city (the three rings, 三环). Also what
units and supervisors do about deadlines: the street's whistle (吹哨), urging and extensions (延期).

The update handlers are in ticket.py; what they do is here."""

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import DeliveryKind
    from domain.deadlines import clocks, escalation, extension
    from domain.deadlines.calendar import deadline_words
    from domain.deadlines.clocks import ApplyCalendar, ClockEvent
    from domain.deadlines.escalation import UrgeAction, Whistle
    from domain.deadlines.extension import DecideExtension
    from domain.policy import BreachAction, ClockName, Limit
    from domain.ticket import clock_key

from workflows.context import TicketContext
from workflows.delivery import Outbox

_CLOCK_LABEL = {
    ClockName.acknowledge: "sign-for",
    ClockName.contact: "citizen contact",
    ClockName.first_feedback: "first feedback",
    ClockName.completion: "completion",
    ClockName.report: "report",
}


class Deadlines:
    def __init__(self, t: TicketContext, outbox: Outbox) -> None:
        self.t = t
        self.outbox = outbox

    async def run_until(self, done: Callable[[], bool]) -> None:
        """One timer at a time: sleep until the next clock event or until anything changes
        (an update may have met or moved a clock), then fire what came due. A ticket started
        before the timer was kept across changes restarts it on every change, as it did."""
        if self.t.patched("deadline-timer-kept"):
            await self._run_until_kept(done)
            return
        t = self.t
        while not done():
            version = t.state.version
            wake = clocks.next_wake(t.state.clocks, t.policy, t.calendar)
            wait = (wake - t.now()).total_seconds() if wake else None
            if wait is None or wait > 0:
                try:
                    await workflow.wait_condition(self._woken(done, version), timeout=wait)
                except TimeoutError:
                    pass
            if done():
                return
            fired = clocks.fire_due(t.state.clocks, t.policy, t.calendar, t.now())
            for event in fired:
                self._on_clock_event(event)
            if fired:
                t.changed()

    async def _run_until_kept(self, done: Callable[[], bool]) -> None:
        """As above, but the timer is restarted only when the next clock event moves: a delivery
        receipt, a progress note or a repeat changes the ticket without touching its clocks, and
        used to cost a cancelled timer and a new one each (12 of 18 timers in a full lifecycle)."""
        t = self.t
        timer: asyncio.Task[None] | None = None
        timer_at: datetime | None = None
        try:
            while not done():
                version = t.state.version
                wake = clocks.next_wake(t.state.clocks, t.policy, t.calendar)
                if timer is None or wake != timer_at:
                    if timer is not None:
                        timer.cancel()
                    timer, timer_at = None, wake
                    wait = (wake - t.now()).total_seconds() if wake else None
                    if wait is not None and wait > 0:
                        timer = asyncio.create_task(workflow.sleep(wait))
                if timer is not None or wake is None:
                    await workflow.wait_condition(self._woken_or_rung(done, version, timer))
                if done():
                    return
                if timer is not None and timer.done():
                    timer = None  # it rang: the next event gets a timer of its own
                fired = clocks.fire_due(t.state.clocks, t.policy, t.calendar, t.now())
                for event in fired:
                    self._on_clock_event(event)
                if fired:
                    t.changed()
        finally:
            if timer is not None and not timer.done():
                timer.cancel()

    def _woken_or_rung(
        self, done: Callable[[], bool], version: int, timer: "asyncio.Task[None] | None"
    ) -> Callable[[], bool]:
        woken = self._woken(done, version)
        return lambda: woken() or (timer is not None and timer.done())

    def _woken(self, done: Callable[[], bool], version: int) -> Callable[[], bool]:
        """Wake when handling is done or anything changed since `version`."""
        return lambda: done() or self.t.state.version != version

    def _on_clock_event(self, event: ClockEvent) -> None:
        s = self.t.state
        clock = s.clocks[event.key]
        # A unit's own clock concerns that unit; the ticket's clocks concern whoever handles it.
        target = clock.unit or s.coordinator_unit or s.lead_unit
        assert target is not None  # clocks run only on a dispatched ticket, which has a lead
        what = _CLOCK_LABEL[event.clock] + (f" of {s.name_of(clock.unit)}" if clock.unit else "")
        data = {
            "clock": event.clock.value,
            "due_at": clock.due_at.isoformat(),
            **({"unit": clock.unit} if clock.unit else {}),
        }
        record, deliver = self.t.record, self.outbox.deliver
        if event.kind == "warning":
            record("system", "deadline_warning", f"{what} due {clock.due_at.isoformat()}", **data)
            deliver(target, DeliveryKind.warning, f"{what}即将到期")
            return
        if event.kind == "breach":
            record("system", "deadline_breached", f"{what} was due {clock.due_at.isoformat()}", **data)
            return
        assert event.step is not None  # the rest are steps of the pack's breach ladder
        if event.step.action == BreachAction.reminder:
            record("system", "reminder", f"{s.name_of(target)} reminded: {what} overdue", **data)
            deliver(target, DeliveryKind.reminder, f"{what}已超期，请尽快办理")
        elif event.step.action == BreachAction.supervision:
            s.flag("supervised")
            record("system", "supervision", f"under supervision: {what} overdue", **data)
            if s.supervisor_unit:
                deliver(s.supervisor_unit, DeliveryKind.supervision, f"{what}超期，已列入督办")
        elif event.step.action == BreachAction.escalation:
            self.escalate(actor="system", reason=f"{what} missed")

    # -- escalation --------------------------------------------------------------------------

    def can_escalate(self) -> bool:
        return self.t.state.escalation_level + 1 < len(self.t.state.escalation_chain)

    def escalate(self, actor: str, reason: str) -> None:
        """Coordination moves one tier up: the upper unit coordinates with a fresh deadline from
        the pack, and it and the sector supervisor are told. At the city there is no further tier."""
        t, s = self.t, self.t.state
        if not self.can_escalate():
            t.record(actor, "escalation_exhausted", f"{reason}; already coordinated at the city tier")
            return
        s.escalation_level += 1
        s.coordinator_unit = s.escalation_chain[s.escalation_level]
        s.tier = s.escalation_tiers[s.escalation_level]
        limit = t.policy.escalation.deadline_by_tier.get(s.tier) or clocks.limit_of(ClockName.completion, s, t.policy)
        assert limit is not None  # every pack has a completion limit
        assert s.coordinator_unit is not None
        key, before = clock_key(ClockName.completion), s.deadline
        fresh = clocks.start_clock(ClockName.completion, limit, t.now(), t.policy, t.calendar)
        kept = s.clocks.get(key)
        # The rule when an extension and an escalation meet: the later deadline governs. An approved
        # extension is not taken away by escalating; the upper tier's fresh limit applies when it is
        # later (always, once the deadline was missed). Tickets escalated before the rule keep theirs.
        extended = any(e.decision == "approved" for e in s.extensions)
        keep = self.t.patched("escalation-keeps-extension") and extended and kept and kept.running
        keep = bool(keep and kept and kept.due_at > fresh.due_at)
        if not keep:
            s.clocks[key] = fresh
        t.record(
            actor, "escalated", f"{reason}: {s.name_of(s.coordinator_unit)} now coordinates ({s.tier.value} tier)",
            tier=s.tier.value, coordinator=s.coordinator_unit, deadline=s.deadline.isoformat() if s.deadline else None,
        )  # fmt: skip
        if keep and kept:
            t.record("system", "deadline_kept", f"the approved extension to {kept.due_at.isoformat()} governs over "
                     f"the {s.tier.value} tier's {fresh.due_at.isoformat()}", clock="completion")  # fmt: skip
        else:
            t.note_deadline(before, f"escalated to {s.name_of(s.coordinator_unit)}")
        self.outbox.deliver(s.coordinator_unit, DeliveryKind.escalation, reason)
        if s.supervisor_unit:
            self.outbox.deliver(s.supervisor_unit, DeliveryKind.escalation, reason)

    # -- what units and supervisors do about deadlines ----------------------------------------

    def whistle(self, w: Whistle) -> None:
        """The street's whistle: summoned departments join and must report in time."""
        t = self.t
        escalation.whistle(t.state, w, t.now())
        for unit in w.units:
            clocks.start_report_clock(t.state, unit, t.policy, t.calendar, t.now())
            self.outbox.deliver(unit, DeliveryKind.whistle, w.reason)

    def urge(self, u: UrgeAction) -> None:
        escalation.urge(self.t.state, u, self.t.now())
        handler = self.t.state.coordinator_unit or self.t.state.lead_unit
        assert handler is not None  # an urged ticket has been dispatched
        self.outbox.deliver(handler, DeliveryKind.urge, u.note)

    def apply_calendar(self, cmd: ApplyCalendar) -> None:
        """Next year's official schedule: estimated deadlines re-timed, the ticket keeps the calendar."""
        t = self.t
        calendar = t.calendar.updated_with(cmd.calendar)
        clocks.retime(t.state, t.policy, t.calendar, calendar, t.now(), cmd.actor.label)
        t.calendar = calendar

    def decide_extension(self, d: DecideExtension) -> None:
        t, s = self.t, self.t.state
        req = extension.decide(s, d, t.now())
        if req.decision == "approved":
            key = clock_key(ClockName.completion)
            s.clocks[key] = clocks.extend_clock(s.clocks[key], Limit.model_validate(req.by), t.policy, t.calendar)
            due = s.clocks[key].due_at.isoformat()
            s.record(t.now(), "system", "deadline_moved", f"completion now due {due}", clock="completion", due_at=due)
            words = deadline_words(s.clocks[key].due_at, s.deadline_estimated)  # an estimate says so
            self.outbox.notify_citizen("extension_approved", deadline=words, reason=req.reason)
        self.outbox.deliver(
            req.unit, DeliveryKind.notice, f"延期申请{'已批准' if req.decision == 'approved' else '未获批准'}"
        )
