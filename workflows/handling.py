"""Stage 3 — handling (办理): the lead unit acknowledges, reports progress and completes,
while the ticket's clocks run (see escalation.py for what a missed deadline does)."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks
    from domain import handling
    from domain.handling import Acknowledge, Complete, ProgressNote, ReportPart
    from domain.ticket import TicketSummary

from workflows.escalation import EscalationStage


class HandlingStage(EscalationStage):
    async def handle(self) -> None:
        """Until the unit completes: clocks run, warnings and breaches fire, escalation climbs."""
        await self.run_clocks_until(lambda: self.state.completion is not None)

    @workflow.update
    def acknowledge(self, action: Acknowledge) -> TicketSummary:
        handling.acknowledge(self.state, action.actor, self.now())
        clocks.on_acknowledged(self.state, self.policy, self.calendar, self.now())
        self._changed()
        return self.summary()

    @acknowledge.validator
    def _check_acknowledge(self, action: Acknowledge) -> None:
        self.guard(handling.check_acknowledge, self.state, action.actor)

    @workflow.update
    def progress(self, note: ProgressNote) -> TicketSummary:
        handling.progress(self.state, note, self.now())
        self._changed()
        return self.summary()

    @progress.validator
    def _check_progress(self, note: ProgressNote) -> None:
        self.guard(handling.check_progress, self.state, note.actor)

    @workflow.update
    def complete(self, action: Complete) -> TicketSummary:
        handling.complete(self.state, action, self.now())
        self._changed()
        return self.summary()

    @complete.validator
    def _check_complete(self, action: Complete) -> None:
        self.guard(handling.check_complete, self.state, action.actor, action.parts_done)

    @workflow.update
    def report_part(self, r: ReportPart) -> TicketSummary:
        """A cooperating unit reports its part to the lead (协办反馈)."""
        handling.report(self.state, r, self.now())
        self._changed()
        return self.summary()

    @report_part.validator
    def _check_report_part(self, r: ReportPart) -> None:
        self.guard(handling.check_report, self.state, r)
