"""The projector: keeps the read model one step behind the ticket's state, never two — one local
activity per burst of changes, with the citizen masked."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import Projection

from workflows import calls
from workflows.context import TicketContext


class Projector:
    def __init__(self, t: TicketContext) -> None:
        self.t = t
        self._projected_version = -1

    async def run_forever(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self._projected_version != self.t.state.version)
            snapshot = Projection(state=self.t.state.masked(), citizen_key=self.t.citizen_key)
            await calls.project_ticket(snapshot)
            self._projected_version = snapshot.state.version

    async def caught_up(self) -> None:
        await workflow.wait_condition(lambda: self._projected_version == self.t.state.version)
