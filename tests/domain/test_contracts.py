"""The workflow-activity contracts (domain/contracts.py): the work order a unit receives and the
idempotency keys that make a retried delivery or notice happen once."""

from datetime import timedelta

from domain.contracts import CitizenNotice, Delivery, DeliveryKind, WorkOrder
from domain.policy import ClockName
from domain.ticket import Clock
from tests.factories import DISTRICT, NOW, STREET, URBAN, ticket_state


def test_the_work_order_carries_the_ticket_and_the_citizens_contact_for_the_unit():
    due = NOW + timedelta(days=7)
    completion = Clock(name=ClockName.completion, limit="7d", started_at=NOW, due_at=due, warn_at=due)
    s = ticket_state(clocks={"completion": completion})
    wo = WorkOrder.of(s)
    assert (wo.number, wo.category) == (s.number, "urban.street_vendor")
    assert (wo.kind, wo.urgency) == (s.request.kind, s.request.urgency)
    assert (wo.citizen_name, wo.citizen_phone) == ("王女士", "13800138000")  # the unit must call the citizen back
    assert (wo.address, wo.district, wo.street) == ("团岛二路12号楼下", DISTRICT, STREET)
    assert (wo.lead_unit, wo.supervisor_unit, wo.deadline) == (STREET, URBAN, due)
    assert wo.description == s.request.description


def test_a_delivery_is_keyed_by_ticket_and_sequence_unless_a_child_names_its_own_key():
    d = Delivery(
        ticket="20261102000001", workflow_id="w", sequence=3, unit=URBAN, kind=DeliveryKind.copy, message="抄送"
    )
    assert d.idempotency_key == "20261102000001-3"
    child = d.model_copy(update={"key": "20261102000001-consultation-1-qd.dept.urban"})
    assert child.idempotency_key == "20261102000001-consultation-1-qd.dept.urban"


def test_a_citizen_notice_is_keyed_by_ticket_and_sequence():
    n = CitizenNotice(ticket="20261102000001", workflow_id="w", sequence=7, phone="13800138000", template="reply_ready")
    assert n.idempotency_key == "20261102000001-7" and n.params == {}
