"""Emergency transfer (转紧急热线) and its follow-up (跟踪): a request for 110 / 119 / 120 / 122 is
transferred at once; the ticket then waits until the center learns from the service what became
of it. Handled closes it; sent back as a hotline matter (非警务警情) dispatches it after all."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain import emergency
    from domain.contracts import EmergencyTransfer
    from domain.deadlines import clocks
    from domain.emergency import RecordFollowUp
    from domain.intake.triage import TriageDecision
    from domain.vocabulary import Outcome, Stage

from workflows import calls
from workflows.context import TicketContext


class EmergencyFollowUp:
    def __init__(self, t: TicketContext) -> None:
        self.t = t

    async def transfer(self, triage: TriageDecision) -> Outcome | None:
        """Transfer, then follow up. None: the service sent it back, to be dispatched."""
        t, s = self.t, self.t.state
        em = triage.emergency
        assert em is not None  # the emergency path always names its service
        transfer = EmergencyTransfer(
            ticket=s.number, workflow_id=s.workflow_id, service=em.number.value, description=s.request.description,
            address=s.request.address.text, district=s.request.address.district, citizen_phone=s.request.citizen.phone,
        )  # fmt: skip
        s.transfer_reference = await calls.transfer_emergency(transfer)
        s.flag("follow_up")  # the center checks with the emergency service that it was handled
        t.record(
            "system", "transferred", f"to {em.number.value} {em.name}: {em.transfer_script}",
            service=em.number.value, reference=s.transfer_reference,
        )  # fmt: skip
        # Tickets transferred before the follow-up existed closed at once; their history says so.
        if not self.t.patched("emergency-follow-up"):
            return Outcome.emergency_transfer
        return Outcome.emergency_transfer if await self._follow_up(em.number.value) else None

    async def _follow_up(self, service: str) -> bool:
        """Past the pack's window the ticket is flagged overdue on the center's list and keeps
        waiting. True when the service handled it."""
        t, s = self.t, self.t.state
        s.stage = Stage.follow_up
        s.follow_up_due, _ = clocks.add_limit(t.now(), t.policy.emergency.follow_up_within, t.calendar)
        t.changed()
        try:
            await workflow.wait_condition(lambda: s.follow_up is not None, timeout=s.follow_up_due - t.now())
        except TimeoutError:
            s.flag("follow_up_overdue")
            t.record("system", "follow_up_overdue", f"no word from {service} yet")
            t.changed()
            await workflow.wait_condition(lambda: s.follow_up is not None)
        assert s.follow_up is not None
        return s.follow_up.handled

    def record(self, f: RecordFollowUp) -> None:
        emergency.follow_up(self.t.state, f, self.t.now())
