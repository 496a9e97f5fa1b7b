"""Handler actions of the lead unit: acknowledge (签收), progress, complete (办结).
Each is a workflow update: a refusal comes back with its reason and leaves no trace."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ClientDep, UnitActor
from api.workflow_calls import update
from domain.handling import Acknowledge, Complete, ProgressNote
from domain.ticket import TicketSummary
from domain.vocabulary import HandlingResult

router = APIRouter(prefix="/tickets/{number}", tags=["handling"])


class ProgressBody(BaseModel):
    note: str = Field(min_length=1, max_length=2000)
    contacted_citizen: bool = False


class CompleteBody(BaseModel):
    result: HandlingResult
    reply: str = Field(min_length=2, max_length=4000)


@router.post("/acknowledge", response_model=TicketSummary, summary="Sign for the ticket (签收)")
async def acknowledge(number: str, actor: UnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "acknowledge", Acknowledge(actor=actor))


@router.post("/progress", response_model=TicketSummary, summary="Add a progress note")
async def progress(number: str, body: ProgressBody, actor: UnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "progress", ProgressNote(actor=actor, **body.model_dump()))


@router.post("/complete", response_model=TicketSummary, summary="Report the result (办结)")
async def complete(number: str, body: CompleteBody, actor: UnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "complete", Complete(actor=actor, **body.model_dump()))
