"""The department-system API: what the hotline sends to a department's own system (城管, 住建,
人社, the utilities...). A unit's `endpoint` in the directory is the base URL; the hotline POSTs

    {endpoint}/work-orders      a work order (派单) or a rehandle (重办): the unit handles the ticket
    {endpoint}/cancellations    the unit no longer owns the ticket (改派 / 退单 approved)
    {endpoint}/urges            an urge (催办) on a ticket the unit handles
    {endpoint}/notices          everything else: the dual-dispatch copy (双派), reminders, supervision,
                                escalation, deadline warnings, whistle summons (吹哨)

with `Idempotency-Key: <ticket number>-<delivery sequence>` (a retry carries the same key: the
department must do it once) and `Authorization: Bearer <the unit's credential>`. The department
answers back through the hotline's own API with a unit token (docs/department-api.md).

These models are the contract: the delivery activity sends them, the simulator receives them, and
docs/department-api.openapi.json is generated from them."""

from datetime import datetime
from enum import StrEnum
from typing import Literal, get_args

from pydantic import BaseModel, Field

from domain.contracts import Delivery, DeliveryKind, WorkOrder
from domain.privacy import mask_name


class Route(StrEnum):
    work_orders = "work-orders"
    cancellations = "cancellations"
    urges = "urges"
    notices = "notices"


ROUTE_OF = {
    DeliveryKind.work_order: Route.work_orders,
    DeliveryKind.rehandle: Route.work_orders,
    DeliveryKind.cooperation: Route.work_orders,
    DeliveryKind.cancellation: Route.cancellations,
    DeliveryKind.urge: Route.urges,
}

# Who takes part in the handling gets the citizen's contact; units that supervise or are only told
# (a copy, a reminder) get the work order without it.
_WITH_CONTACT = {
    DeliveryKind.work_order, DeliveryKind.rehandle, DeliveryKind.cooperation, DeliveryKind.escalation,
    DeliveryKind.whistle,
}  # fmt: skip

NoticeKind = Literal["copy", "reminder", "supervision", "escalation", "warning", "whistle", "consultation", "notice"]
_NOTICE_KINDS = set(get_args(NoticeKind))


class _Message(BaseModel):
    ticket: str = Field(description="Ticket number (工单号)", examples=["20261122000001"])
    sequence: int = Field(description="The ticket's delivery sequence; with the number, the idempotency key")
    unit: str = Field(description="The receiving unit's id in the hotline directory", examples=["qd.dept.urban"])
    message: str = Field(default="", description="A note for the unit, in Chinese")


class WorkOrderDelivery(_Message):
    """A ticket for the unit to handle: acknowledge (签收), contact the citizen, complete (办结)."""

    kind: Literal["work_order", "rehandle", "cooperation"] = Field(
        description="work_order: first dispatch; rehandle: sent back after an unsatisfied callback; "
        "cooperation: the unit's own part as a cooperating unit (协办), reported to the lead"
    )
    work_order: WorkOrder


class Cancellation(_Message):
    """The unit no longer owns the ticket (reassigned after a return, or by the center): stop handling it."""

    kind: Literal["cancellation"] = "cancellation"


class Urge(_Message):
    """Hurry up (催办): the ticket is late or the citizen called again."""

    kind: Literal["urge"] = "urge"
    deadline: datetime | None = None


class Notice(_Message):
    """Something the unit should know about a ticket it supervises, handles or is summoned to."""

    kind: NoticeKind
    work_order: WorkOrder | None = None


class DeliveryAnswer(BaseModel):
    """A department system's 2xx answer."""

    reference: str | None = Field(default=None, description="The department system's own id for what it received")
    duplicate: bool = Field(
        default=False, description="This Idempotency-Key was received before; nothing was done twice"
    )


Message = WorkOrderDelivery | Cancellation | Urge | Notice


def message_of(delivery: Delivery) -> tuple[Route, Message]:
    """The route and body a delivery becomes at the department's endpoint."""
    base = dict(ticket=delivery.ticket, sequence=delivery.sequence, unit=delivery.unit, message=delivery.message)
    wo = delivery.work_order
    if wo is not None and delivery.kind not in _WITH_CONTACT:
        wo = wo.model_copy(update={"citizen_name": mask_name(wo.citizen_name), "citizen_phone": None})
    route = ROUTE_OF.get(delivery.kind, Route.notices)
    if route == Route.work_orders:
        if wo is None:
            raise ValueError(f"a {delivery.kind.value} delivery needs its work order")
        return route, WorkOrderDelivery(kind=delivery.kind.value, work_order=wo, **base)
    if route == Route.cancellations:
        return route, Cancellation(**base)
    if route == Route.urges:
        return route, Urge(deadline=wo.deadline if wo else None, **base)
    kind = delivery.kind.value if delivery.kind.value in _NOTICE_KINDS else "notice"
    return route, Notice(kind=kind, work_order=wo, **base)
