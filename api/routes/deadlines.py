"""Actions around deadlines: the street's whistle (吹哨), escalation on request (提级), urging
(督办), and extensions (延期) with the center's decision."""

from fastapi import APIRouter
from pydantic import Field

from api.deps import ActorDep, ClientDep, DirectoryDep, ReviewingActor, RoutedUnitActor, known_unit
from api.workflow_calls import update
from domain.deadlines.escalation import (
    EscalationRequest,
    EscalationRequestFields,
    UrgeAction,
    UrgeActionFields,
    Whistle,
    WhistleFields,
)
from domain.deadlines.extension import (
    AskExtension,
    AskExtensionFields,
    DecideExtension,
    DecideExtensionFields,
)
from domain.ticket import TicketSummary
from workflows.ticket import TicketWorkflow

router = APIRouter(prefix="/tickets/{number}", tags=["deadlines and escalation"])


class WhistleBody(WhistleFields):
    units: list[str] = Field(min_length=1, max_length=20, description="ids or names of the departments summoned")


@router.post("/whistle", response_model=TicketSummary, summary="The street summons departments (吹哨报到)")
async def whistle(
    number: str, body: WhistleBody, actor: RoutedUnitActor, client: ClientDep, directory: DirectoryDep
) -> TicketSummary:
    units = {u.id: u.name for u in (known_unit(ref, directory) for ref in body.units)}
    fields = body.model_dump(exclude={"units"})
    return await update(client, number, TicketWorkflow.whistle, Whistle(actor=actor, units=units, **fields))


@router.post("/escalate", response_model=TicketSummary, summary="Escalate one tier up at once (提级)")
async def escalate(number: str, body: EscalationRequestFields, actor: ActorDep, client: ClientDep) -> TicketSummary:
    request = EscalationRequest(actor=actor, **body.model_dump())
    return await update(client, number, TicketWorkflow.request_escalation, request)


@router.post("/urge", response_model=TicketSummary, summary="Urge the handling unit (督办)")
async def urge(number: str, body: UrgeActionFields, actor: ActorDep, client: ClientDep) -> TicketSummary:
    return await update(client, number, TicketWorkflow.urge, UrgeAction(actor=actor, **body.model_dump()))


@router.post(
    "/extension-request", response_model=TicketSummary, summary="Ask for more time, before the deadline (延期申请)"
)
async def extension_request(
    number: str, body: AskExtensionFields, actor: RoutedUnitActor, client: ClientDep
) -> TicketSummary:
    ask = AskExtension(actor=actor, **body.model_dump())
    return await update(client, number, TicketWorkflow.request_extension, ask)


@router.post("/extension-decision", response_model=TicketSummary, summary="The center approves or rejects an extension")
async def extension_decision(
    number: str, body: DecideExtensionFields, actor: ReviewingActor, client: ClientDep
) -> TicketSummary:
    decision = DecideExtension(actor=actor, **body.model_dump())
    return await update(client, number, TicketWorkflow.decide_extension, decision)
