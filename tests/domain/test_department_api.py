"""The department-system contract (domain/department_api.py): which endpoint each delivery goes
to, what body it becomes, and who gets the citizen's contact."""

import pytest

from domain.contracts import Delivery, DeliveryKind, WorkOrder
from domain.department_api import (
    Cancellation,
    Notice,
    Route,
    Urge,
    WorkOrderDelivery,
    message_of,
)
from tests.factories import STREET, URBAN, ticket_state


def delivery(kind: DeliveryKind, with_order: bool = True, unit: str = STREET) -> Delivery:
    wo = WorkOrder.of(ticket_state()) if with_order else None
    return Delivery(
        ticket="20261102000001", workflow_id="w", sequence=4, unit=unit, kind=kind, message="请办理", work_order=wo
    )


@pytest.mark.parametrize("kind", [DeliveryKind.work_order, DeliveryKind.rehandle, DeliveryKind.cooperation])
def test_a_ticket_to_handle_goes_to_work_orders_with_the_citizens_contact(kind):
    route, body = message_of(delivery(kind))
    assert route == Route.work_orders and isinstance(body, WorkOrderDelivery)
    assert body.kind == kind.value and (body.ticket, body.sequence, body.unit) == ("20261102000001", 4, STREET)
    assert (body.work_order.citizen_name, body.work_order.citizen_phone) == ("王女士", "13800138000")


def test_a_ticket_to_handle_without_its_work_order_is_a_programming_error():
    with pytest.raises(ValueError, match="needs its work order"):
        message_of(delivery(DeliveryKind.work_order, with_order=False))


def test_the_supervisors_copy_is_a_notice_without_the_citizens_contact():
    route, body = message_of(delivery(DeliveryKind.copy, unit=URBAN))
    assert route == Route.notices and isinstance(body, Notice) and body.kind == "copy"
    assert body.work_order.citizen_phone is None and body.work_order.citizen_name == "王**"
    assert body.work_order.description  # the matter itself is there


@pytest.mark.parametrize(
    ("kind", "contact"),
    [(DeliveryKind.escalation, True), (DeliveryKind.whistle, True),
     (DeliveryKind.supervision, False), (DeliveryKind.warning, False)],
)  # fmt: skip
def test_a_summoned_or_coordinating_unit_may_call_the_citizen_one_only_told_may_not(kind, contact):
    route, body = message_of(delivery(kind))
    assert route == Route.notices and body.kind == kind.value
    assert (body.work_order.citizen_phone == "13800138000") is contact


def test_a_cancellation_and_an_urge_have_their_own_endpoints():
    route, body = message_of(delivery(DeliveryKind.cancellation))
    assert route == Route.cancellations and isinstance(body, Cancellation) and body.message == "请办理"
    d = delivery(DeliveryKind.urge)
    route, body = message_of(d)
    assert route == Route.urges and isinstance(body, Urge) and body.deadline == d.work_order.deadline
    route, body = message_of(delivery(DeliveryKind.urge, with_order=False))
    assert body.deadline is None


def test_a_kind_the_contract_does_not_name_arrives_as_a_plain_notice():
    route, body = message_of(delivery(DeliveryKind.transfer, with_order=False))
    assert route == Route.notices and body.kind == "notice" and body.work_order is None
