"""Handler actions of the lead unit: acknowledge (签收), progress, complete (办结).
Each is a workflow update: a refusal comes back with its reason and leaves no trace."""

from fastapi import APIRouter

from api.deps import ClientDep, DirectoryDep, RoutedUnitActor, unit_id
from api.workflow_calls import update
from domain.handling import (
    Acknowledge,
    Complete,
    CompleteFields,
    ProgressNote,
    ProgressNoteFields,
)
from domain.ticket import TicketSummary
from workflows.ticket import TicketWorkflow

router = APIRouter(prefix="/tickets/{number}", tags=["handling"])


@router.post("/acknowledge", response_model=TicketSummary, summary="Sign for the ticket (签收)")
async def acknowledge(number: str, actor: RoutedUnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, TicketWorkflow.acknowledge, Acknowledge(actor=actor))


@router.post("/progress", response_model=TicketSummary, summary="Add a progress note")
async def progress(number: str, body: ProgressNoteFields, actor: RoutedUnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, TicketWorkflow.progress, ProgressNote(actor=actor, **body.model_dump()))


@router.post(
    "/complete", response_model=TicketSummary, summary="Report the result (办结)",
    description="`parts_done` names (by id or name) the cooperating units whose part the lead confirms "
    "done; without it, those that reported their part.",
)  # fmt: skip
async def complete(
    number: str, body: CompleteFields, actor: RoutedUnitActor, client: ClientDep, directory: DirectoryDep
) -> TicketSummary:
    parts = [unit_id(u, directory) for u in body.parts_done] if body.parts_done is not None else None
    completion = Complete(actor=actor, **body.model_dump(exclude={"parts_done"}), parts_done=parts)
    return await update(client, number, TicketWorkflow.complete, completion)
