"""Intake (受理): the request is recorded, triaged onto one of the five paths, its owners found and
its rules fixed for life. Four paths end at the desk — a direct answer from the knowledge base,
out of scope, the legal channel, or an emergency transfer (once the center has followed it up).
Repeats of an open ticket join it (并单)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import DeliveryKind
    from domain.intake import merge
    from domain.intake.merge import MergeAppeal
    from domain.intake.triage import TriageDecision, TriagePath
    from domain.ticket import TicketInput
    from domain.vocabulary import Outcome

from workflows import calls
from workflows.context import TicketContext, shared_pack
from workflows.delivery import Outbox
from workflows.emergency import EmergencyFollowUp


class Intake:
    def __init__(self, t: TicketContext, outbox: Outbox, emergency: EmergencyFollowUp) -> None:
        self.t = t
        self.outbox = outbox
        self.emergency = emergency
        self.routed_cooperating: list[str] = []  # a saved ruling's cooperating units, for dispatch

    async def take_in(self, input: TicketInput) -> TriageDecision:
        t, s = self.t, self.t.state
        req = s.request
        t.record(
            input.received_by, "received", f"{req.kind.value} via {req.channel.value}: {req.category}",
            channel=req.channel.value, kind=req.kind.value, urgency=req.urgency.value, enterprise=req.enterprise,
        )  # fmt: skip
        if req.enterprise:
            s.flag("enterprise")
        t.changed()

        decision = await calls.decide_intake(input)
        # The pack and calendar travel in history: a changed pack file never touches this ticket.
        t.policy = shared_pack(decision.policy)
        t.calendar = decision.calendar
        t.citizen_key = decision.citizen_key
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
        self.routed_cooperating = list(r.cooperating)
        triage = s.triage = decision.triage
        t.record(
            triage.overridden_by or "system", "triaged", f"{triage.path.value}: {triage.reason}",
            path=triage.path.value, confidence=round(triage.confidence, 2), overridden=bool(triage.overridden_by),
            **({"suggested": triage.suggested.value} if triage.suggested else {}),
        )  # fmt: skip
        if triage.path == TriagePath.dispatch:
            policy = s.policy
            t.record(
                "system", "routed", f"lead {s.name_of(r.lead_unit)} ({r.reason}); rules {policy.name} {policy.version}",
                lead_unit=r.lead_unit, supervisor_unit=r.supervisor_unit, policy=policy.name,
                policy_version=policy.version,
            )  # fmt: skip
        t.changed()
        return triage

    async def close_at_desk(self, triage: TriageDecision) -> Outcome | None:
        """The four paths that end at the desk, each leaving its answer in the timeline. None: an
        emergency service sent the request back as a hotline matter, to be dispatched after all."""
        record, notify = self.t.record, self.outbox.notify_citizen
        if triage.path == TriagePath.direct_answer and triage.article:
            art = triage.article
            record("system", "answered", art.answer, article=art.id, title=art.title)
            notify("direct_answer", answer=art.answer)
            return Outcome.direct_answer
        if triage.path == TriagePath.out_of_scope and triage.out_of_scope:
            oos = triage.out_of_scope
            record("system", "explained", oos.explanation, category=oos.id)
            notify("out_of_scope", explanation=oos.explanation)
            return Outcome.out_of_scope
        if triage.path == TriagePath.legal_channel and triage.legal_channel:
            ch = triage.legal_channel
            record("system", "guided", f"{ch.name}: {ch.guidance}", channel=ch.id)
            notify("legal_channel", channel=ch.name, guidance=ch.guidance)
            return Outcome.legal_channel
        return await self.emergency.transfer(triage)

    def merge(self, m: MergeAppeal) -> None:
        """A repeat joins the open ticket; the third puts it under supervision."""
        t, s = self.t, self.t.state
        if merge.already_merged(s, m.key):
            return  # a retried merge counts once
        supervised = merge.merge(s, m, t.now(), t.policy.merge.supervise_at_repeat)
        if supervised and s.supervisor_unit:
            self.outbox.deliver(
                s.supervisor_unit, DeliveryKind.supervision, f"群众重复反映{len(s.appeals)}次，已列入督办"
            )
        lead = s.coordinator_unit or s.lead_unit
        assert lead is not None  # a ticket that takes repeats has been routed
        self.outbox.deliver(lead, DeliveryKind.notice, f"群众再次反映：{m.description[:100]}")
        if m.citizen.phone:
            self.outbox.notify_citizen("merged", phone=m.citizen.phone)
