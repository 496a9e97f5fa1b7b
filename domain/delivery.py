"""Re-sending a delivery (重发): the center sends a work order, notice or callback request again,
for a department system (or callback channel) that lost what it received. The copy carries the
same Idempotency-Key (ticket number and the delivery's sequence): a system that still has it
answers "duplicate" and does nothing twice; one that lost it acts on it as new. A work order
goes out as the ticket now stands (its deadline, its handler)."""

from pydantic import BaseModel, Field

from domain.contracts import DeliveryKind
from domain.errors import conflict, invalid
from domain.ticket import Actor, TicketState
from domain.vocabulary import Stage

# A transfer to an emergency service is its own flow (the emergency follow-up), not re-sent here.
NOT_RESENT = {DeliveryKind.transfer}


class ResendFields(BaseModel):
    """What the center says when it re-sends (the body of POST /deliveries/{key}/resend)."""

    reason: str = Field(default="", max_length=500, description="why, for the timeline")


class ResendDelivery(ResendFields):
    actor: Actor
    sequence: int = Field(ge=1)
    unit: str
    kind: DeliveryKind


def check_resend(s: TicketState, r: ResendDelivery) -> None:
    if s.stage == Stage.closed:
        raise conflict(f"ticket {s.number} is closed: nothing of it is re-sent")
    if r.sequence > s.deliveries:
        raise invalid(f"ticket {s.number} has sent {s.deliveries} deliveries, not {r.sequence}")
    if r.kind in NOT_RESENT:
        raise invalid(f"a {r.kind.value} is not re-sent from here")
    if r.kind == DeliveryKind.callback and s.stage != Stage.callback:
        raise conflict(f"ticket {s.number} is not waiting for a callback (stage {s.stage.value})")
