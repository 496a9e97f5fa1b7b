"""Actions around deadlines: the street's whistle (吹哨), escalation on request (提级), urging
(督办), and extensions (延期) with the center's decision."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ActorDep, ClientDep, DirectoryDep, UnitActor
from api.errors import ApiError
from api.workflow_calls import update
from domain.deadlines.escalation import EscalationRequest, UrgeAction, Whistle
from domain.deadlines.extension import AskExtension, DecideExtension
from domain.policy import Limit
from domain.ticket import TicketSummary

router = APIRouter(prefix="/tickets/{number}", tags=["deadlines and escalation"])


class WhistleBody(BaseModel):
    units: list[str] = Field(min_length=1, max_length=20, description="ids or names of the departments summoned")
    reason: str = Field(min_length=2, max_length=1000)


class ReasonBody(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class UrgeBody(BaseModel):
    note: str = Field(min_length=2, max_length=1000)


class ExtensionBody(BaseModel):
    by: Limit = Field(description='more time: "48h", "3d" or "5wd" (working days)', examples=["3d"])
    reason: str = Field(min_length=2, max_length=1000)


class DecisionBody(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=1000)


@router.post("/whistle", response_model=TicketSummary, summary="The street summons departments (吹哨报到)")
async def whistle(number: str, body: WhistleBody, actor: UnitActor, client: ClientDep, directory: DirectoryDep):
    units: dict[str, str] = {}
    for ref in body.units:
        unit = directory.find(ref)
        if unit is None:
            raise ApiError(422, f"unknown unit {ref!r}; see GET /units")
        units[unit.id] = unit.name
    return await update(client, number, "whistle", Whistle(actor=actor, units=units, reason=body.reason))


@router.post("/escalate", response_model=TicketSummary, summary="Escalate one tier up at once (提级)")
async def escalate(number: str, body: ReasonBody, actor: ActorDep, client: ClientDep) -> TicketSummary:
    return await update(client, number, "request_escalation", EscalationRequest(actor=actor, reason=body.reason))


@router.post("/urge", response_model=TicketSummary, summary="Urge the handling unit (督办)")
async def urge(number: str, body: UrgeBody, actor: ActorDep, client: ClientDep) -> TicketSummary:
    return await update(client, number, "urge", UrgeAction(actor=actor, note=body.note))


@router.post("/extension-request", response_model=TicketSummary, summary="Ask for more time, before the deadline (延期申请)")
async def extension_request(number: str, body: ExtensionBody, actor: UnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "request_extension", AskExtension(actor=actor, by=body.by, reason=body.reason))


@router.post("/extension-decision", response_model=TicketSummary, summary="The center approves or rejects an extension")
async def extension_decision(number: str, body: DecisionBody, actor: ActorDep, client: ClientDep) -> TicketSummary:
    return await update(client, number, "decide_extension", DecideExtension(actor=actor, **body.model_dump()))
