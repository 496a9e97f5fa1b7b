"""The contracts between workflows and activities: what each activity takes and returns.

Kept in domain/ so workflow code can import them inside the sandbox without pulling in
SQLModel or httpx."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from domain.deadlines.calendar import WorkCalendar
from domain.intake.triage import TriageDecision
from domain.policy import PolicyPack
from domain.ticket import Routing, TicketState
from domain.vocabulary import Kind, Urgency

# Error types an activity raises and the workflow's retry policy reads: a definite refusal by a
# department system is not retried; an unreachable system is.
DELIVERY_REJECTED = "DeliveryRejected"
DELIVERY_UNAVAILABLE = "DeliveryUnavailable"


class IntakeDecision(BaseModel):
    """What intake settles once, and the ticket keeps for life: owners, rules and calendar."""

    routing: Routing
    policy: PolicyPack
    calendar: WorkCalendar
    citizen_key: str | None  # salted hash of the phone: finds repeats without storing the number
    triage: TriageDecision  # which of the five intake paths the request takes


class DeliveryKind(StrEnum):
    work_order = "work_order"  # first-responsible dispatch to the lead unit (派单)
    cooperation = "cooperation"  # a cooperating unit's own dispatch (协办)
    consultation = "consultation"  # an invitation to a consultation round (会商)
    copy = "copy"  # dual dispatch: copy to the sector supervisor (双派)
    rehandle = "rehandle"  # sent back after an unsatisfied callback (重办)
    reminder = "reminder"  # 催办
    supervision = "supervision"  # 督办
    escalation = "escalation"  # 提级: to the coordinator one tier up
    warning = "warning"  # a deadline is near
    whistle = "whistle"  # 吹哨: summoned department
    urge = "urge"
    cancellation = "cancellation"  # the unit no longer owns the ticket (reassigned)
    notice = "notice"  # anything else a unit should know
    transfer = "transfer"  # to an emergency service (转紧急热线)
    callback = "callback"  # a callback request (回访) to the callback channel, not to a unit
    early_warning = "early_warning"  # 未诉先办: a surge of requests in the unit's area or sector (not a ticket)


class WorkOrder(BaseModel):
    """The ticket as a handling unit's system receives it. The citizen's phone is here because the
    unit must contact the citizen; it never goes into a log."""

    number: str
    category: str
    kind: Kind
    urgency: Urgency
    enterprise: bool
    description: str
    address: str
    district: str | None
    street: str | None
    citizen_name: str
    citizen_phone: str | None
    lead_unit: str | None
    supervisor_unit: str | None
    deadline: datetime | None
    # The deadline falls in a year without an official holiday schedule yet: an estimate that may
    # move when the center applies the official calendar. Show it as one.
    deadline_estimated: bool = False

    @classmethod
    def of(cls, s: TicketState) -> "WorkOrder":
        f = s.flat()
        req = s.request
        return cls(
            number=f.number, category=f.category, kind=f.kind, urgency=f.urgency, enterprise=f.enterprise,
            description=req.description, address=req.address.text, district=f.district, street=f.street,
            citizen_name=req.citizen.name, citizen_phone=req.citizen.phone,
            lead_unit=f.lead_unit, supervisor_unit=f.supervisor_unit, deadline=f.deadline,
            deadline_estimated=s.deadline_estimated,
        )  # fmt: skip


class Delivery(BaseModel):
    ticket: str
    workflow_id: str
    sequence: int  # the ticket's delivery sequence: with the number, the idempotency key
    unit: str
    kind: DeliveryKind
    message: str  # Chinese text for the unit
    work_order: WorkOrder | None = None
    key: str | None = None  # for deliveries a child workflow makes (no share of the ticket's sequence)

    @property
    def idempotency_key(self) -> str:
        return self.key or f"{self.ticket}-{self.sequence}"


class DeliveryReceipt(BaseModel):
    delivered: bool
    channel: str  # department_api | sms | queue
    detail: str = ""


class CallbackRequest(BaseModel):
    """One callback attempt (回访) for the callback channel to carry out."""

    ticket: str
    workflow_id: str
    sequence: int
    attempt: int
    phone: str | None
    result: str  # what the unit reported, for the operator or survey
    reply: str


class CallbackSurvey(BaseModel):
    """What the automated callback channel (a voice or SMS survey provider) is asked to do: reach
    the citizen about the unit's reply and bring back the answer (POST /tickets/{number}/callback)."""

    ticket: str
    attempt: int
    channel: str  # voice | sms
    phone: str
    result: str  # what the unit reported: resolved | explained | unresolvable
    reply: str
    text: str  # the survey message (template callback_survey)


class SmsMessage(BaseModel):
    """What the SMS provider receives from the notification gateway."""

    to: str
    sign: str  # registered signature (短信签名), added by the provider
    template: str
    text: str
    reference: str  # our idempotency key: the provider sends a retried request once


class CitizenNotice(BaseModel):
    """A message to the citizen (SMS): a template name from the notification templates and its
    parameters. The phone travels here and nowhere near a log."""

    ticket: str
    workflow_id: str
    sequence: int
    phone: str
    template: str  # e.g. "extension_approved", "ticket_received", "reply_ready"
    params: dict[str, str] = {}

    @property
    def idempotency_key(self) -> str:
        return f"{self.ticket}-{self.sequence}"


class EmergencyTransfer(BaseModel):
    """A request handed to 110 / 119 / 120 / 122 at once (转紧急热线)."""

    ticket: str
    workflow_id: str
    service: str
    description: str
    address: str
    district: str | None
    citizen_phone: str | None


class Projection(BaseModel):
    """The masked live state for the read model."""

    state: TicketState
    citizen_key: str | None
