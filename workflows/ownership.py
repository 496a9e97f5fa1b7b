"""How a change of ownership is carried out — after an approved return, a consultation or a
ruling — and how cooperating units (协办) join a ticket."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.deadlines import clocks
    from domain.ownership import returns
    from domain.contracts import DeliveryKind
    from domain.ticket import Cooperation, UnitInfo

from workflows import activities as acts
from workflows.escalation import EscalationStage


class OwnershipStage(EscalationStage):
    # -- ownership changes, whoever decides them ---------------------------------------------

    async def resolve_units(self, ids: list[str]) -> dict[str, UnitInfo]:
        return await workflow.execute_activity(
            acts.RESOLVE_UNITS, list(dict.fromkeys(ids)), result_type=dict[str, UnitInfo], **acts.INTAKE
        )

    def reassign(self, to: UnitInfo, via: str) -> None:
        s = self.state
        old = returns.reassign(s, to, via, self.now())
        clocks.on_reassigned(s, self.policy, self.calendar, self.now())
        if old and old != to.id:
            self.deliver(old, DeliveryKind.cancellation, f"工单已改派至{to.name}")
        self.deliver(to.id, DeliveryKind.work_order)

    def add_cooperating(self, units: dict[str, str], via: str) -> None:
        """Each cooperating unit gets its own dispatch and must report (sign for its part)."""
        s = self.state
        for unit, name in units.items():
            if unit == s.lead_unit or unit in s.cooperating:
                continue
            s.cooperating[unit] = Cooperation(unit=unit, via=via, since=self.now())
            s.unit_names[unit] = name
            clocks.start_report_clock(s, unit, self.policy, self.calendar, self.now())
            self.deliver(unit, DeliveryKind.cooperation, f"协同办理，主办单位：{s.name_of(s.lead_unit)}")
