"""Consultation (会商 / 一键会商) and ruling (领导坐诊 / 终诊): when units dispute who owns a ticket.

Each consultation is a child workflow (ConsultationWorkflow) that runs the rounds: it invites the
candidate units, takes their answers as updates until the round's deadline, records the silent
ones and applies the pack's consensus rule. It mirrors every change to the ticket by signal, so
the ticket's live state shows the rounds and answers. Without consensus it asks for a ruling,
which a center leader gives on the ticket (TicketWorkflow.issue_ruling, ownership.py): binding,
and optionally saved as a responsibility rule for the next such ticket. It stands on its own: it
shares only the refusal guard and the typed activity calls with the ticket."""

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from domain.contracts import Delivery, DeliveryKind
    from domain.deadlines import clocks
    from domain.ownership import consultation
    from domain.ownership.consultation import (
        Answer,
        ConsultationInput,
        ConsultationOutcome,
    )
    from domain.ticket import ConsultationRound, ConsultationView

from workflows import calls
from workflows.context import PROGRESS_SIGNAL, guard


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
            except TimeoutError:
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
            await calls.deliver(delivery)
        except ActivityError:
            pass  # the unit still sees the invitation in its list; the round's deadline decides

    async def _tell_ticket(self) -> None:
        # Signals may overtake each other: each carries its number, and the ticket keeps the newest.
        self.view.seq += 1
        parent = workflow.get_external_workflow_handle(self.input.parent_workflow_id)
        await parent.signal(PROGRESS_SIGNAL, self.view)

    @workflow.update
    async def answer(self, a: Answer) -> ConsultationView:
        if consultation.is_repeat(self.view, a):
            return self.view  # a retried answer counts once
        consultation.record_answer(self.view, a, workflow.now())
        await self._tell_ticket()
        return self.view

    @answer.validator
    def _check_answer(self, a: Answer) -> None:
        guard(consultation.check_answer, self.view, a)

    @workflow.query(name="state")
    def live_state(self) -> ConsultationView:
        return self.view
