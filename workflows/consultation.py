"""Consultation (会商 / 一键会商) and ruling (领导坐诊 / 终诊): when units dispute who owns a ticket.

Each consultation is a child workflow (ConsultationWorkflow) that runs the rounds: it invites the
candidate units, takes their answers as updates until the round's deadline, records the silent
ones and applies the pack's consensus rule. It mirrors every change to the ticket by signal, so
the ticket's live state shows the rounds and answers. Without consensus it asks for a ruling,
which a center leader gives on the ticket (ConsultationStage.issue_ruling): binding, and
optionally saved as a responsibility rule for the next such ticket."""

import asyncio

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks
    from domain.ownership import consultation, ruling
    from domain.ownership.consultation import Answer, ConsultationInput, ConsultationOutcome, OpenConsultation
    from domain.contracts import Delivery, DeliveryKind, DeliveryReceipt
    from domain.ownership.ruling import IssueRuling, ResponsibilityRule
    from domain.ticket import ConsultationRound, ConsultationView, TicketSummary

from workflows import activities as acts
from workflows.base import TicketBase
from workflows.ownership import OwnershipStage

PROGRESS_SIGNAL = "consultation_progress"


@workflow.defn
class ConsultationWorkflow:
    @workflow.init
    def __init__(self, input: ConsultationInput) -> None:
        self.input = input
        self.view = ConsultationView(
            number=input.number,
            workflow_id=workflow.info().workflow_id,
            reason=input.reason,
            opened_by=input.opened_by,
            opened_at=input.opened_at,
            candidates=input.candidates,
        )

    @workflow.run
    async def run(self, input: ConsultationInput) -> ConsultationOutcome:
        rule = input.rule
        for number in range(1, rule.max_rounds + 1):
            deadline = clocks.add_limit(workflow.now(), rule.round_deadline, input.calendar)[0]
            self.view.rounds.append(ConsultationRound(number=number, deadline=deadline))
            await self._tell_ticket()
            invitations = [asyncio.create_task(self._invite(unit, number)) for unit in input.candidates]
            try:
                await workflow.wait_condition(self._all_answered, timeout=deadline - workflow.now())
            except asyncio.TimeoutError:
                pass
            consultation.close_round(self.view)
            lead, cooperating = consultation.settle(self.view, rule)
            await asyncio.gather(*invitations)
            if lead:
                self.view.status, self.view.lead, self.view.cooperating = "consensus", lead, cooperating
                await self._tell_ticket()
                return ConsultationOutcome(status="consensus", lead=lead, cooperating=cooperating, view=self.view)
        self.view.status = "needs_ruling"
        await self._tell_ticket()
        return ConsultationOutcome(status="needs_ruling", view=self.view)

    def _all_answered(self) -> bool:
        return len(self.view.rounds[-1].answers) == len(self.view.candidates)

    async def _invite(self, unit: str, round_number: int) -> None:
        i = self.input
        delivery = Delivery(
            ticket=i.ticket,
            workflow_id=i.parent_workflow_id,
            sequence=round_number,
            unit=unit,
            kind=DeliveryKind.consultation,
            message=f"会商第{round_number}轮：{i.reason}",
            key=f"{i.ticket}-c{i.number}r{round_number}-{unit}",
        )
        try:
            await workflow.execute_activity(acts.DELIVER, delivery, result_type=DeliveryReceipt, **acts.DELIVERY)
        except ActivityError:
            pass  # the unit still sees the invitation in its list; the round's deadline decides

    async def _tell_ticket(self) -> None:
        parent = workflow.get_external_workflow_handle(self.input.parent_workflow_id)
        await parent.signal(PROGRESS_SIGNAL, self.view)

    @workflow.update
    async def answer(self, a: Answer) -> ConsultationView:
        consultation.record_answer(self.view, a, workflow.now())
        await self._tell_ticket()
        return self.view

    @answer.validator
    def _check_answer(self, a: Answer) -> None:
        TicketBase.guard(consultation.check_answer, self.view, a)

    @workflow.query(name="state")
    def live_state(self) -> ConsultationView:
        return self.view


class ConsultationStage(OwnershipStage):
    """The ticket's side: opening a consultation, mirroring it, acting on its outcome, rulings."""

    def open_consultation(self, candidates: list[str], reason: str, opened_by: str) -> None:
        s = self.state
        number = len(s.consultations) + 1
        view = ConsultationView(
            number=number,
            workflow_id=f"{s.workflow_id}-consultation-{number}",
            reason=reason,
            opened_by=opened_by,
            opened_at=self.now(),
            candidates={u: s.name_of(u) for u in candidates},
        )
        s.consultations.append(view)
        s.flag("in_consultation")
        self.record(opened_by, "consultation_opened", reason, number=number, candidates=candidates)
        if self.policy.consultation.clocks == "pause":
            clocks.pause_all(s, self.now())
        self._background(self._consult(view))

    async def _consult(self, view: ConsultationView) -> None:
        s = self.state
        missing = [u for u in view.candidates if view.candidates[u] == u]
        if missing:  # names for candidates the ticket has not met yet
            infos = await self.resolve_units(missing)
            view.candidates.update({u: infos[u].name for u in missing})
            s.unit_names.update({u: infos[u].name for u in missing})
        child = ConsultationInput(
            ticket=s.number,
            parent_workflow_id=s.workflow_id,
            number=view.number,
            candidates=dict(view.candidates),
            reason=view.reason,
            opened_by=view.opened_by,
            opened_at=view.opened_at,
            rule=self.policy.consultation,
            calendar=self.calendar,
        )
        handle = await workflow.start_child_workflow(
            ConsultationWorkflow.run, child, id=view.workflow_id, retry_policy=RetryPolicy(maximum_attempts=1)
        )
        self._consultations[view.number] = handle
        try:
            outcome = await handle
        except (ChildWorkflowError, asyncio.CancelledError):
            return  # cancelled by a ruling, which has settled everything already
        async with self._ownership:
            if s.consultations[view.number - 1].status in ("ruled", "cancelled"):
                return
            s.consultations[view.number - 1] = outcome.view
            if outcome.status == "consensus":
                await self._settle_by_consensus(outcome)
            else:
                s.unflag("in_consultation")
                s.flag("awaiting_ruling")
                self.record("system", "ruling_needed", f"no consensus after {len(outcome.view.rounds)} round(s)")
                center = s.escalation_chain[-1] if s.escalation_chain else None
                if center:
                    self.deliver(center, DeliveryKind.notice, "会商未达成一致，请领导坐诊")
            self._changed()

    async def _settle_by_consensus(self, outcome: ConsultationOutcome) -> None:
        s = self.state
        lead = outcome.lead
        if lead != s.lead_unit:
            info = (await self.resolve_units([lead]))[lead]
            self.reassign(info, via="consultation")
        self.add_cooperating({u: s.name_of(u) for u in outcome.cooperating}, via="consultation")
        s.unflag("in_consultation")
        clocks.resume_all(s, self.now(), self.calendar)
        names = "、".join(s.name_of(u) for u in outcome.cooperating) or "none"
        self.record("system", "consultation_settled", f"lead {s.name_of(lead)}, cooperating {names}", lead=lead)

    @workflow.signal(name=PROGRESS_SIGNAL)
    def consultation_progress(self, view: ConsultationView) -> None:
        s = self.state
        if not 0 < view.number <= len(s.consultations):
            return
        mine = s.consultations[view.number - 1]
        if mine.status in ("ruled", "cancelled"):
            return
        # Every answer and every new round lands in the timeline once.
        known = {(r.number, u) for r in mine.rounds for u, a in r.answers.items() if a.answer != "silent"}
        for rnd in view.rounds:
            if rnd.number > len(mine.rounds):
                self.record("system", "consultation_round", f"round {rnd.number} until {rnd.deadline.isoformat()}",
                            number=view.number, round=rnd.number)  # fmt: skip
            for unit, a in rnd.answers.items():
                if (rnd.number, unit) not in known:
                    self.record(unit, f"consultation_{a.answer}", a.reason, unit=unit, round=rnd.number)
        s.consultations[view.number - 1] = view
        self._changed()

    @workflow.update
    async def open_consultation_now(self, o: OpenConsultation) -> TicketSummary:
        """一键会商: the center opens a consultation among the units it names."""
        infos = await self.resolve_units(o.candidates)
        self.state.unit_names.update({u: i.name for u, i in infos.items()})
        self.guard(consultation.check_open_consultation, self.state, o)
        self.open_consultation(list(infos), o.reason, o.actor.label)
        self._changed()
        return self.summary()

    @open_consultation_now.validator
    def _check_open_consultation(self, o: OpenConsultation) -> None:
        self.guard(consultation.check_open_consultation, self.state, o)

    # -- the ruling --------------------------------------------------------------------------

    @workflow.update
    async def issue_ruling(self, r: IssueRuling) -> TicketSummary:
        s = self.state
        async with self._ownership:
            self.guard(ruling.check_ruling, s, r)
            infos = await self.resolve_units([r.lead, *r.cooperating])
            s.unit_names.update({u: i.name for u, i in infos.items()})
            ruling.record(s, r, self.now())
            view = s.open_consultation
            if view is not None:
                view.status = "ruled"
                handle = self._consultations.get(view.number)
                if handle is not None:
                    handle.cancel()
            s.unflag("in_consultation")
            s.unflag("awaiting_ruling")
            clocks.resume_all(s, self.now(), self.calendar)
            if r.lead != s.lead_unit:
                self.reassign(infos[r.lead], via="ruling")
            self.add_cooperating({u: infos[u].name for u in r.cooperating}, via="ruling")
            if r.save_as_rule:
                area = s.street_unit if r.area == "street" else s.district_unit
                rule = ResponsibilityRule(
                    category=s.request.category, area=area, lead=r.lead, cooperating=r.cooperating,
                    ticket=s.number, ruled_by=r.actor.label, reason=r.reason,
                )  # fmt: skip
                await workflow.execute_activity(acts.SAVE_RESPONSIBILITY_RULE, rule, **acts.INTAKE)
                self.record("system", "rule_saved", f"{s.request.category} in {s.name_of(area)} → {s.name_of(r.lead)}",
                            area=area, lead=r.lead)  # fmt: skip
            self._changed()
            return self.summary()

    @issue_ruling.validator
    def _check_ruling(self, r: IssueRuling) -> None:
        self.guard(ruling.check_ruling, self.state, r)

