"""Deadlines and escalation (提级): warnings before a deadline, and when it passes the pack's
ladder — reminder (催办), supervision (督办, a flag) and escalation one tier up, street →
district → city (the three rings, 三环). Also what units and supervisors do about deadlines:
the street's whistle (吹哨), a request to escalate, urging, and extensions (延期)."""

import asyncio
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks, escalation, extension
    from domain.deadlines.calendar import deadline_words
    from domain.deadlines.clocks import ApplyCalendar, ClockEvent
    from domain.contracts import DeliveryKind
    from domain.deadlines.escalation import EscalationRequest, UrgeAction, Whistle
    from domain.deadlines.extension import AskExtension, DecideExtension
    from domain.policy import BreachAction, ClockName, Limit
    from domain.ticket import TicketSummary, clock_key

from workflows.base import TicketBase

_CLOCK_LABEL = {
    ClockName.acknowledge: "sign-for",
    ClockName.contact: "citizen contact",
    ClockName.first_feedback: "first feedback",
    ClockName.completion: "completion",
    ClockName.report: "report",
}


class EscalationStage(TicketBase):
    # -- the clocks --------------------------------------------------------------------------

    async def run_clocks_until(self, done: Callable[[], bool]) -> None:
        """One timer at a time: sleep until the next clock event or until anything changes
        (an update may have met or moved a clock), then fire what came due."""
        while not done():
            version = self.state.version
            wake = clocks.next_wake(self.state.clocks, self.policy, self.calendar)
            wait = (wake - self.now()).total_seconds() if wake else None
            if wait is None or wait > 0:
                try:
                    await workflow.wait_condition(
                        lambda: done() or self.state.version != version, timeout=wait
                    )
                except asyncio.TimeoutError:
                    pass
            if done():
                return
            fired = clocks.fire_due(self.state.clocks, self.policy, self.calendar, self.now())
            for event in fired:
                self.on_clock_event(event)
            if fired:
                self._changed()

    def on_clock_event(self, event: ClockEvent) -> None:
        s = self.state
        clock = s.clocks[event.key]
        # A unit's own clock concerns that unit; the ticket's clocks concern whoever handles it.
        target = clock.unit or s.coordinator_unit or s.lead_unit
        what = _CLOCK_LABEL[event.clock] + (f" of {s.name_of(clock.unit)}" if clock.unit else "")
        data = {"clock": event.clock.value, "due_at": clock.due_at.isoformat(), **({"unit": clock.unit} if clock.unit else {})}
        if event.kind == "warning":
            self.record("system", "deadline_warning", f"{what} due {clock.due_at.isoformat()}", **data)
            self.deliver(target, DeliveryKind.warning, f"{what}即将到期")
        elif event.kind == "breach":
            self.record("system", "deadline_breached", f"{what} was due {clock.due_at.isoformat()}", **data)
        elif event.step.action == BreachAction.reminder:
            self.record("system", "reminder", f"{s.name_of(target)} reminded: {what} overdue", **data)
            self.deliver(target, DeliveryKind.reminder, f"{what}已超期，请尽快办理")
        elif event.step.action == BreachAction.supervision:
            s.flag("supervised")
            self.record("system", "supervision", f"under supervision: {what} overdue", **data)
            if s.supervisor_unit:
                self.deliver(s.supervisor_unit, DeliveryKind.supervision, f"{what}超期，已列入督办")
        elif event.step.action == BreachAction.escalation:
            self.escalate(actor="system", reason=f"{what} missed")

    # -- escalation --------------------------------------------------------------------------

    def can_escalate(self) -> bool:
        return self.state.escalation_level + 1 < len(self.state.escalation_chain)

    def escalate(self, actor: str, reason: str) -> None:
        """Coordination moves one tier up: the upper unit coordinates with a fresh deadline from
        the pack, and it and the sector supervisor are told. At the city there is no further tier."""
        s = self.state
        if not self.can_escalate():
            self.record(actor, "escalation_exhausted", f"{reason}; already coordinated at the city tier")
            return
        s.escalation_level += 1
        s.coordinator_unit = s.escalation_chain[s.escalation_level]
        s.tier = s.escalation_tiers[s.escalation_level]
        limit = self.policy.escalation.deadline_by_tier.get(s.tier) or clocks.limit_of(
            ClockName.completion, s, self.policy
        )
        s.clocks[clock_key(ClockName.completion)] = clocks.start_clock(
            ClockName.completion, limit, self.now(), self.policy, self.calendar
        )
        self.record(
            actor, "escalated", f"{reason}: {s.name_of(s.coordinator_unit)} now coordinates ({s.tier.value} tier)",
            tier=s.tier.value, coordinator=s.coordinator_unit, deadline=s.deadline.isoformat() if s.deadline else None,
        )  # fmt: skip
        self.deliver(s.coordinator_unit, DeliveryKind.escalation, reason)
        if s.supervisor_unit:
            self.deliver(s.supervisor_unit, DeliveryKind.escalation, reason)

    @workflow.update
    def request_escalation(self, r: EscalationRequest) -> TicketSummary:
        self.escalate(r.actor.label, f"escalation requested: {r.reason}")
        self._changed()
        return self.summary()

    @request_escalation.validator
    def _check_request_escalation(self, r: EscalationRequest) -> None:
        self.guard(
            escalation.check_escalation_request, self.state, r,
            self.policy.escalation.street_may_request, self.can_escalate(),
        )  # fmt: skip

    # -- the street's whistle: summoned departments join and must report ---------------------

    @workflow.update
    def whistle(self, w: Whistle) -> TicketSummary:
        escalation.whistle(self.state, w, self.now())
        for unit in w.units:
            clocks.start_report_clock(self.state, unit, self.policy, self.calendar, self.now())
            self.deliver(unit, DeliveryKind.whistle, w.reason)
        self._changed()
        return self.summary()

    @whistle.validator
    def _check_whistle(self, w: Whistle) -> None:
        self.guard(escalation.check_whistle, self.state, w)

    # -- urging ------------------------------------------------------------------------------

    @workflow.update
    def urge(self, u: UrgeAction) -> TicketSummary:
        escalation.urge(self.state, u, self.now())
        self.deliver(self.state.coordinator_unit or self.state.lead_unit, DeliveryKind.urge, u.note)
        self._changed()
        return self.summary()

    @urge.validator
    def _check_urge(self, u: UrgeAction) -> None:
        self.guard(escalation.check_urge, self.state, u)

    # -- extensions --------------------------------------------------------------------------

    @workflow.update
    def request_extension(self, a: AskExtension) -> TicketSummary:
        extension.ask(self.state, a, self.now())
        self._changed()
        return self.summary()

    @request_extension.validator
    def _check_request_extension(self, a: AskExtension) -> None:
        self.guard(extension.check_ask, self.state, a, self.policy.extension, self.now())

    @workflow.update
    def decide_extension(self, d: DecideExtension) -> TicketSummary:
        s = self.state
        req = extension.decide(s, d, self.now())
        if req.decision == "approved":
            key = clock_key(ClockName.completion)
            s.clocks[key] = clocks.extend_clock(s.clocks[key], Limit.model_validate(req.by), self.policy, self.calendar)
            s.record(self.now(), "system", "deadline_moved", f"completion now due {s.deadline.isoformat()}",
                     clock="completion", due_at=s.deadline.isoformat())  # fmt: skip
            self.notify_citizen(
                "extension_approved", deadline=deadline_words(s.deadline, s.deadline_estimated), reason=req.reason
            )
        self.deliver(req.unit, DeliveryKind.notice, f"延期申请{'已批准' if req.decision == 'approved' else '未获批准'}")
        self._changed()
        return self.summary()

    @decide_extension.validator
    def _check_decide_extension(self, d: DecideExtension) -> None:
        self.guard(extension.check_decide, self.state, d)

    # -- next year's official calendar -------------------------------------------------------

    @workflow.update
    def apply_calendar(self, cmd: ApplyCalendar) -> TicketSummary:
        calendar = self.calendar.updated_with(cmd.calendar)
        clocks.retime(self.state, self.policy, self.calendar, calendar, self.now(), cmd.actor.label)
        self.calendar = calendar  # the ticket keeps it from now on
        self._changed()
        return self.summary()

    @apply_calendar.validator
    def _check_apply_calendar(self, cmd: ApplyCalendar) -> None:
        self.guard(clocks.check_apply_calendar, self.state, cmd)
