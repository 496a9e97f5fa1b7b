"""The citizen's answer to the callback (回访), recorded by a center operator."""

from fastapi import APIRouter

from api.deps import CallbackActor, ClientDep
from api.workflow_calls import update
from domain.callback import RecordCallback
from domain.ticket import CallbackAnswer, TicketSummary
from workflows.ticket import TicketWorkflow

router = APIRouter(prefix="/tickets/{number}", tags=["callback"])


@router.post("/callback", response_model=TicketSummary, summary="Record the citizen's callback answer")
async def record_callback(number: str, body: CallbackAnswer, actor: CallbackActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, TicketWorkflow.record_callback, RecordCallback(actor=actor, answer=body))
