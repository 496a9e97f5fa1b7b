"""Deadlines and escalation (提级): warnings before a deadline, and when it passes the pack's
ladder — reminder (催办), supervision (督办, a flag) and escalation one tier up, street →
district → city (the three rings, 三环)."""

import asyncio
from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import clocks
    from domain.clocks import ClockEvent
    from domain.contracts import DeliveryKind
    from domain.policy import BreachAction, ClockName

from workflows.base import TicketBase


class EscalationStage(TicketBase):
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
            for event in clocks.fire_due(self.state.clocks, self.policy, self.calendar, self.now()):
                self.on_clock_event(event)
            self._changed()

    def on_clock_event(self, event: ClockEvent) -> None:
        s = self.state
        clock = s.clocks[event.clock]
        handler = s.coordinator_unit or s.lead_unit
        what = _CLOCK_LABEL[event.clock]
        if event.kind == "warning":
            self.record(
                "system", "deadline_warning", f"{what} due {clock.due_at.isoformat()}",
                clock=event.clock.value, due_at=clock.due_at.isoformat(),
            )  # fmt: skip
            self.deliver(handler, DeliveryKind.warning, f"{what}即将到期")
        elif event.kind == "breach":
            self.record(
                "system", "deadline_breached", f"{what} was due {clock.due_at.isoformat()}",
                clock=event.clock.value, due_at=clock.due_at.isoformat(),
            )  # fmt: skip
        elif event.step and event.step.action == BreachAction.reminder:
            self.record("system", "reminder", f"{s.name_of(handler)} reminded: {what} overdue", clock=event.clock.value)
            self.deliver(handler, DeliveryKind.reminder, f"{what}已超期，请尽快办理")
        elif event.step and event.step.action == BreachAction.supervision:
            s.flag("supervised")
            self.record("system", "supervision", f"under supervision: {what} overdue", clock=event.clock.value)
            if s.supervisor_unit:
                self.deliver(s.supervisor_unit, DeliveryKind.supervision, f"{what}超期，已列入督办")
        elif event.step and event.step.action == BreachAction.escalation:
            self.escalate(actor="system", reason=f"{what} missed")

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
        s.clocks[ClockName.completion] = clocks.start_clock(
            ClockName.completion, limit, self.now(), self.policy, self.calendar
        )
        self.record(
            actor, "escalated", f"{reason}: {s.name_of(s.coordinator_unit)} now coordinates ({s.tier.value} tier)",
            tier=s.tier.value, coordinator=s.coordinator_unit, deadline=s.deadline.isoformat() if s.deadline else None,
        )  # fmt: skip
        self.deliver(s.coordinator_unit, DeliveryKind.escalation, reason)
        if s.supervisor_unit:
            self.deliver(s.supervisor_unit, DeliveryKind.escalation, reason)


_CLOCK_LABEL = {
    ClockName.acknowledge: "sign-for",
    ClockName.contact: "citizen contact",
    ClockName.first_feedback: "first feedback",
    ClockName.completion: "completion",
}
