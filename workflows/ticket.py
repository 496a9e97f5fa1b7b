"""TicketWorkflow: one durable workflow per ticket, id `ticket-<number>`, from call to close.

The run reads like the lifecycle of ../shared/domain.md; each stage lives in its own module."""

import asyncio

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.ticket import TicketInput, TicketState, TicketSummary
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
        await self.intake(input)  # 受理: owners, rules and calendar fixed for life
        await self.dispatch()  # 首派 + 双派
        while True:
            await self.handle()  # 办理 under the clocks; escalation on missed deadlines
            outcome = await self.callback()  # 回访
            if outcome is not None:
                break
            if not self.can_rehandle():
                outcome = Outcome.hard_case  # on the monthly clearing list (动态清零)
                break
            self.rehandle()  # 重办
        self.close(outcome)
        await self._settle()
        return self.summary()

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
