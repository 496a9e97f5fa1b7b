"""Stage 2 — first-responsible dispatch (首派负责) and dual dispatch (双派).

The work order goes to the lead unit and, at the same moment, a copy goes to the city sector
supervisor of the category, who urges, guides and is assessed on the same ticket."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks
    from domain.contracts import DeliveryKind
    from domain.vocabulary import Stage

from workflows.ownership import OwnershipStage


class DispatchStage(OwnershipStage):
    async def dispatch(self) -> None:
        s = self.state
        now = self.now()
        s.stage = Stage.dispatch
        s.dispatched_at = now
        clocks.open_clocks(s, self.policy, self.calendar, now)
        deadline = s.deadline
        self.record(
            "system", "dispatched", f"first-responsible: {s.name_of(s.lead_unit)}",
            unit=s.lead_unit, deadline=deadline.isoformat() if deadline else None,
        )  # fmt: skip
        self.record(
            "system", "copied", f"dual dispatch: copy to sector supervisor {s.name_of(s.supervisor_unit)}",
            unit=s.supervisor_unit,
        )  # fmt: skip
        if any(c.estimated for c in s.clocks.values()):
            s.flag("estimated_deadline")
        self._changed()
        self.deliver(s.lead_unit, DeliveryKind.work_order)
        if s.supervisor_unit and s.supervisor_unit != s.lead_unit:
            self.deliver(s.supervisor_unit, DeliveryKind.copy)
        # A saved ruling sends its cooperating units along from the start.
        if self._routed_cooperating:
            self.add_cooperating({u: s.name_of(u) for u in self._routed_cooperating}, via="saved ruling")
            self._changed()
