"""Following up an emergency transfer (转紧急后跟踪): the center checks with 110 / 119 / 120 / 122
that the matter was handled, and the ticket closes; a service that sends it back as a hotline
matter (非警务警情分流) has it dispatched like any other request."""

from datetime import datetime

from pydantic import BaseModel, Field

from domain.errors import conflict, forbidden
from domain.ticket import Actor, FollowUp, TicketState
from domain.vocabulary import SUPERVISING_ROLES, Stage


class RecordFollowUpFields(BaseModel):
    handled: bool = Field(description="true: the service handled it, the ticket closes; false: it sent it back "
                          "as a hotline matter, the ticket is dispatched")  # fmt: skip
    note: str = Field(
        min_length=2, max_length=1000, description="what the service said", examples=["119已出警，明火已扑灭"]
    )


class RecordFollowUp(RecordFollowUpFields):
    actor: Actor


def check_follow_up(s: TicketState, f: RecordFollowUp) -> None:
    if f.actor.role not in SUPERVISING_ROLES:
        raise forbidden("only the 12345 center records what an emergency service did")
    if s.stage != Stage.follow_up:
        raise conflict(f"ticket {s.number} is not an emergency transfer waiting for its follow-up (stage {s.stage})")


def follow_up(s: TicketState, f: RecordFollowUp, now: datetime) -> None:
    s.follow_up = FollowUp(handled=f.handled, note=f.note, by=f.actor.label, at=now)
    s.unflag("follow_up")
    s.unflag("follow_up_overdue")
    event = "followed_up" if f.handled else "sent_back_by_emergency_service"
    s.record(now, f.actor.label, event, f.note, handled=f.handled, reference=s.transfer_reference or "")
