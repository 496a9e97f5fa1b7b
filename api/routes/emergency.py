"""The center's follow-up of an emergency transfer (转紧急后跟踪): what 110 / 119 / 120 / 122 did
with it. Open transfers are listed with GET /tickets?status=follow_up (overdue=true: past the
pack's window)."""

from fastapi import APIRouter

from api.deps import ClientDep, SupervisingActor
from api.workflow_calls import update
from domain.emergency import RecordFollowUp, RecordFollowUpFields
from domain.ticket import TicketSummary
from workflows.ticket import TicketWorkflow

router = APIRouter(prefix="/tickets/{number}", tags=["intake"])


@router.post("/emergency-follow-up", response_model=TicketSummary, summary="Record what the emergency service did")
async def record_follow_up(
    number: str, body: RecordFollowUpFields, actor: SupervisingActor, client: ClientDep
) -> TicketSummary:
    follow_up = RecordFollowUp(actor=actor, **body.model_dump())
    return await update(client, number, TicketWorkflow.record_follow_up, follow_up)
