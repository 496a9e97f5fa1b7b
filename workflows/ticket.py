"""TicketWorkflow: one durable workflow per ticket, id `ticket-<number>`, from call to close.

The run reads like the lifecycle of ../shared/domain.md; each stage lives in its own module."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.ticket import TicketInput, TicketState, TicketSummary
    from domain.intake.triage import TriagePath
    from domain.vocabulary import Outcome, Stage

from workflows.callback import CallbackStage
from workflows.dispatch import DispatchStage
from workflows.handling import HandlingStage
from workflows.intake import IntakeStage
from workflows.returns import ReturnStage


@workflow.defn
class TicketWorkflow(IntakeStage, DispatchStage, HandlingStage, ReturnStage, CallbackStage):
    @workflow.init
    def __init__(self, input: TicketInput) -> None:
        self._init_base(input)

    @workflow.run
    async def run(self, input: TicketInput) -> TicketSummary:
        lifecycle = asyncio.create_task(self.lifecycle(input))
        projector = asyncio.create_task(self._project_forever())
        # The projector only ends by failing: let that fail the workflow task (Temporal retries
        # it once the bug is fixed) instead of leaving the ticket waiting for a dead task.
        await workflow.wait([lifecycle, projector], return_when=asyncio.FIRST_COMPLETED)
        if projector.done():
            projector.result()
        projector.cancel()
        return lifecycle.result()

    async def lifecycle(self, input: TicketInput) -> TicketSummary:
        triage = await self.intake(input)  # 受理: the five paths; owners, rules and calendar for life
        outcome = None
        if triage.path != TriagePath.dispatch:
            outcome = await self.close_at_intake(triage)  # 直接答复 / 超范围 / 转紧急 / 涉法涉诉
        if outcome is None:  # dispatch, or an emergency service sent it back (非警务警情)
            await self.dispatch()  # 首派 + 双派
            outcome = await self.handle_to_the_citizens_word()
        self.close(outcome)
        await self._settle()
        return self.summary()

    async def handle_to_the_citizens_word(self) -> Outcome:
        while True:
            await self.handle()  # 办理 under the clocks; escalation, returns and consultation meanwhile
            outcome = await self.callback()  # 回访
            if outcome is not None:
                return outcome
            if not self.can_rehandle():
                return Outcome.hard_case  # on the monthly clearing list (动态清零)
            self.rehandle()  # 重办

    def close(self, outcome: Outcome) -> None:
        s = self.state
        s.stage = Stage.closed
        s.outcome = outcome
        s.closed_at = self.now()
        if outcome == Outcome.hard_case:
            s.flag("hard_case")
        self.record("system", "closed", outcome.value, outcome=outcome.value)
        self._changed()

    @workflow.query(name="state")
    def live_state(self) -> TicketState:
        return self.state
