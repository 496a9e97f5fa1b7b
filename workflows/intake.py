"""Stage 1 — intake (受理): the request is recorded, its owners found, its rules fixed for life."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import IntakeDecision
    from domain.ticket import TicketInput

from workflows import activities as acts
from workflows.base import TicketBase


class IntakeStage(TicketBase):
    async def intake(self, input: TicketInput) -> None:
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
        self.record(
            "system", "triaged", f"lead {s.name_of(r.lead_unit)} ({r.reason}); rules {s.policy.name} {s.policy.version}",
            lead_unit=r.lead_unit, supervisor_unit=r.supervisor_unit, policy=s.policy.name,
            policy_version=s.policy.version,
        )  # fmt: skip
        self._changed()
