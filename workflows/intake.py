"""Stage 1 — intake (受理): the request is recorded, triaged onto one of the five paths, its owners
found and its rules fixed for life. Four paths end here: a direct answer from the knowledge base,
out of scope, an emergency transfer (once the center has followed it up), or the legal channel.
Repeats of an open ticket join it."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks
    from domain import emergency as followup
    from domain.intake import merge
    from domain.contracts import DeliveryKind, EmergencyTransfer, IntakeDecision
    from domain.emergency import RecordFollowUp
    from domain.intake.merge import MergeAppeal
    from domain.ticket import TicketInput, TicketSummary
    from domain.intake.triage import TriageDecision, TriagePath
    from domain.vocabulary import Outcome, Stage

from workflows import activities as acts
from workflows.base import TicketBase


class IntakeStage(TicketBase):
    async def intake(self, input: TicketInput) -> TriageDecision:
        s = self.state
        req = s.request
        self.record(
            input.received_by, "received", f"{req.kind.value} via {req.channel.value}: {req.category}",
            channel=req.channel.value, kind=req.kind.value, urgency=req.urgency.value, enterprise=req.enterprise,
        )  # fmt: skip
        if req.enterprise:
            s.flag("enterprise")
        self._changed()

        decision = await workflow.execute_activity(
            acts.DECIDE_INTAKE, input, result_type=IntakeDecision, **acts.INTAKE
        )
        # The pack and calendar travel in history: a changed pack file never touches this ticket.
        self.policy = decision.policy
        self.calendar = decision.calendar
        self.citizen_key = decision.citizen_key
        r = decision.routing
        s.policy = decision.policy.ref
        s.lead_unit = r.lead_unit
        s.supervisor_unit = r.supervisor_unit
        s.street_unit = r.street_unit
        s.district_unit = r.district_unit
        s.escalation_chain = r.escalation_chain
        s.escalation_tiers = r.escalation_tiers
        s.unit_names = dict(r.unit_names)
        s.tier = r.escalation_tiers[0]
        s.first_responsible_unit = r.lead_unit
        s.candidates = list(r.candidates)
        self._routed_cooperating = list(r.cooperating)
        t = s.triage = decision.triage
        self.record(
            t.overridden_by or "system", "triaged", f"{t.path.value}: {t.reason}",
            path=t.path.value, confidence=round(t.confidence, 2), overridden=bool(t.overridden_by),
            **({"suggested": t.suggested.value} if t.suggested else {}),
        )  # fmt: skip
        if t.path == TriagePath.dispatch:
            self.record(
                "system", "routed", f"lead {s.name_of(r.lead_unit)} ({r.reason}); rules {s.policy.name} {s.policy.version}",
                lead_unit=r.lead_unit, supervisor_unit=r.supervisor_unit, policy=s.policy.name,
                policy_version=s.policy.version,
            )  # fmt: skip
        self._changed()
        return t

    async def close_at_intake(self, t: TriageDecision) -> Outcome | None:
        """The four paths that end at the desk, each leaving its answer in the timeline. None: an
        emergency service sent the request back as a hotline matter, to be dispatched after all."""
        s = self.state
        if t.path == TriagePath.direct_answer:
            self.record("system", "answered", t.article.answer, article=t.article.id, title=t.article.title)
            self.notify_citizen("direct_answer", answer=t.article.answer)
            return Outcome.direct_answer
        if t.path == TriagePath.out_of_scope:
            self.record("system", "explained", t.out_of_scope.explanation, category=t.out_of_scope.id)
            self.notify_citizen("out_of_scope", explanation=t.out_of_scope.explanation)
            return Outcome.out_of_scope
        if t.path == TriagePath.legal_channel:
            ch = t.legal_channel
            self.record("system", "guided", f"{ch.name}: {ch.guidance}", channel=ch.id)
            self.notify_citizen("legal_channel", channel=ch.name, guidance=ch.guidance)
            return Outcome.legal_channel
        em = t.emergency
        transfer = EmergencyTransfer(
            ticket=s.number, workflow_id=s.workflow_id, service=em.number.value, description=s.request.description,
            address=s.request.address.text, district=s.request.address.district, citizen_phone=s.request.citizen.phone,
        )  # fmt: skip
        s.transfer_reference = await workflow.execute_activity(acts.TRANSFER_EMERGENCY, transfer, result_type=str, **acts.DELIVERY)
        s.flag("follow_up")  # the center checks with the emergency service that it was handled
        self.record("system", "transferred", f"to {em.number.value} {em.name}: {em.transfer_script}",
                    service=em.number.value, reference=s.transfer_reference)  # fmt: skip
        # Tickets transferred before the follow-up existed closed at once; their history says so.
        if not workflow.patched("emergency-follow-up"):
            return Outcome.emergency_transfer
        return Outcome.emergency_transfer if await self.follow_up_emergency() else None

    async def follow_up_emergency(self) -> bool:
        """跟踪: wait for the center to learn from the service what became of the transfer; past
        the pack's window the ticket is flagged overdue on the center's list and keeps waiting.
        True when the service handled it."""
        s = self.state
        s.stage = Stage.follow_up
        s.follow_up_due, _ = clocks.add_limit(self.now(), self.policy.emergency.follow_up_within, self.calendar)
        self._changed()
        try:
            await workflow.wait_condition(lambda: s.follow_up is not None, timeout=s.follow_up_due - self.now())
        except asyncio.TimeoutError:
            s.flag("follow_up_overdue")
            self.record("system", "follow_up_overdue", f"no word from {s.triage.emergency.number.value} yet")
            self._changed()
            await workflow.wait_condition(lambda: s.follow_up is not None)
        return s.follow_up.handled

    @workflow.update
    def record_follow_up(self, f: RecordFollowUp) -> TicketSummary:
        followup.follow_up(self.state, f, self.now())
        self._changed()
        return self.summary()

    @record_follow_up.validator
    def _check_follow_up(self, f: RecordFollowUp) -> None:
        self.guard(followup.check_follow_up, self.state, f)

    # -- repeats join the open ticket (并单) -----------------------------------------------------

    @workflow.update
    def merge_appeal(self, m: MergeAppeal) -> TicketSummary:
        s = self.state
        if merge.already_merged(s, m.key):
            return self.summary()  # a retried merge counts once
        supervised = merge.merge(s, m, self.now(), self.policy.merge.supervise_at_repeat)
        if supervised and s.supervisor_unit:
            self.deliver(s.supervisor_unit, DeliveryKind.supervision, f"群众重复反映{len(s.appeals)}次，已列入督办")
        self.deliver(s.coordinator_unit or s.lead_unit, DeliveryKind.notice, f"群众再次反映：{m.description[:100]}")
        if m.citizen.phone:
            self.notify_citizen("merged", phone=m.citizen.phone)
        self._changed()
        return self.summary()

    @merge_appeal.validator
    def _check_merge(self, m: MergeAppeal) -> None:
        self.guard(merge.check_merge, self.state)
