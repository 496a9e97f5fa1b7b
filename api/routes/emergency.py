"""The center's follow-up of an emergency transfer (转紧急后跟踪): what 110 / 119 / 120 / 122 did
with it. Open transfers are listed with GET /tickets?status=follow_up (overdue=true: past the
pack's window)."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import ClientDep, require
from api.workflow_calls import update
from domain.emergency import RecordFollowUp
from domain.ticket import Actor, TicketSummary
from domain.vocabulary import Role

router = APIRouter(prefix="/tickets/{number}", tags=["intake"])

CenterActor = Annotated[Actor, Depends(require(Role.center, Role.supervisor, what="follow up emergency transfers"))]


class FollowUpBody(BaseModel):
    handled: bool = Field(description="true: the service handled it, the ticket closes; false: it sent it back "
                          "as a hotline matter, the ticket is dispatched")  # fmt: skip
    note: str = Field(min_length=2, max_length=1000, examples=["119已出警，明火已扑灭"])


@router.post("/emergency-follow-up", response_model=TicketSummary, summary="Record what the emergency service did")
async def record_follow_up(number: str, body: FollowUpBody, actor: CenterActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "record_follow_up", RecordFollowUp(actor=actor, **body.model_dump()))
