"""The projector: keeps the read model one step behind the ticket's state, never two — one local
activity per burst of changes, with the citizen masked — and Temporal's search attributes with it."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import Projection
    from domain.vocabulary import Stage

from workflows import calls
from workflows.context import SEARCH_ATTRIBUTES_WITH_PROJECTION, TicketContext


class Projector:
    def __init__(self, t: TicketContext) -> None:
        self.t = t
        self._projected_version = -1
        self._projected_stage: Stage | None = None

    async def run_forever(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self._projected_version != self.t.state.version)
            if self.t.patched("projection-once-per-activation"):
                await self._activation_settled()
            snapshot = Projection(state=self.t.state.masked(), citizen_key=self.t.citizen_key)
            if self.t.patched(SEARCH_ATTRIBUTES_WITH_PROJECTION):
                self.t.upsert_search_attributes()  # Temporal's filters move with the read model's row
            # Runs that recorded "projection-after-the-task" keep the activity after the task
            # (calls.project_ticket); every run since records "projection-local-again". Decided
            # once per run, at its first projection.
            after_the_task = not self.t.patched("projection-local-again") and self.t.patched(
                "projection-after-the-task"
            )
            await calls.project_ticket(snapshot, after_the_task)
            self._projected_version = snapshot.state.version
            self._projected_stage = snapshot.state.stage

    async def _activation_settled(self) -> None:
        """Let the changes that follow at once land before the snapshot, so that one projection
        carries them all: a change wakes the lifecycle too, which often changes the ticket again in
        the same activation (a callback answer, then the close), and a warning sends a reminder
        whose first attempt answers within the workflow task (at most a few seconds). A new stage
        does not wait for first attempts: units and the API act on the stage the read model shows
        (a dispatch is in the unit's list while its work order is still on its way).
        Each `lambda: True` wait is one pass of the workflow's event loop; the loop ends at the
        first pass that changed nothing, with no first attempt under way to wait for."""
        seen = -1
        while seen != self.t.state.version or self._attempts_to_wait_for():
            await workflow.wait_condition(lambda: not self._attempts_to_wait_for())
            seen = self.t.state.version
            await workflow.wait_condition(lambda: True)

    def _attempts_to_wait_for(self) -> bool:
        return self.t.first_attempts > 0 and self.t.state.stage == self._projected_stage

    async def caught_up(self) -> None:
        await workflow.wait_condition(lambda: self._projected_version == self.t.state.version)
