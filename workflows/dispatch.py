"""First-responsible dispatch (首派负责) and dual dispatch (双派): the work order goes to the lead
unit and, at the same moment, a copy goes to the city sector supervisor of the category, who
urges, guides and is assessed on the same ticket. The clocks start here."""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.contracts import DeliveryKind
    from domain.deadlines import clocks
    from domain.vocabulary import Stage

from workflows.context import TicketContext
from workflows.delivery import Outbox
from workflows.ownership import Ownership


def dispatch(t: TicketContext, outbox: Outbox, ownership: Ownership, routed_cooperating: list[str]) -> None:
    s = t.state
    now = t.now()
    s.stage = Stage.dispatch
    s.dispatched_at = now
    clocks.open_clocks(s, t.policy, t.calendar, now)
    deadline = s.deadline
    t.record(
        "system", "dispatched", f"first-responsible: {s.name_of(s.lead_unit)}",
        unit=s.lead_unit, deadline=deadline.isoformat() if deadline else None,
    )  # fmt: skip
    copy_to = s.supervisor_unit if s.supervisor_unit and s.supervisor_unit != s.lead_unit else None
    if copy_to:  # the timeline says copied only when a copy goes out (a supervisor that leads gets none)
        t.record("system", "copied", f"dual dispatch: copy to sector supervisor {s.name_of(copy_to)}", unit=copy_to)
    if any(c.estimated for c in s.clocks.values()):
        s.flag("estimated_deadline")
    t.changed()
    assert s.lead_unit is not None  # routing always names a lead
    outbox.deliver(s.lead_unit, DeliveryKind.work_order)
    if copy_to:
        outbox.deliver(copy_to, DeliveryKind.copy)
    # A saved ruling sends its cooperating units along from the start.
    if routed_cooperating:
        ownership.add_cooperating({u: s.name_of(u) for u in routed_cooperating}, via="saved ruling")
        t.changed()
