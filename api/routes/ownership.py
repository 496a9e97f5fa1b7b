"""Who owns it: returns (退单) and their review, consultation (会商) and its answers, the leader's
binding ruling (终诊), and cooperating units' reports (协办反馈)."""

from typing import Literal

from anyio import to_thread
from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import ActorDep, ClientDep, DirectoryDep, SettingsDep, UnitActor
from api.errors import ApiError
from api.workflow_calls import query_state, update
from domain.ownership.consultation import Answer, OpenConsultation
from domain.directory import Directory
from domain.handling import ReportPart
from domain.ownership.returns import AskReturn, DecideReturn, DisputeReturn
from domain.ownership.ruling import IssueRuling
from domain.ticket import TicketSummary
from domain.vocabulary import Role
from readmodel import rules as saved_rules

router = APIRouter(prefix="/tickets/{number}", tags=["ownership"])
rules_router = APIRouter(tags=["ownership"])


def unit_id(ref: str | None, directory: Directory) -> str | None:
    """A unit by id, name or alias; 422 when there is none."""
    if ref is None:
        return None
    unit = directory.find(ref)
    if unit is None:
        raise ApiError(422, f"unknown unit {ref!r}; see GET /units")
    return unit.id


class ReturnBody(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)
    suggested_unit: str | None = Field(default=None, description="who the unit thinks owns it (id or name)")


class ReturnDecisionBody(BaseModel):
    approve: bool
    reassign_to: str | None = Field(default=None, description="id or name; default: the next candidate")
    note: str = Field(default="", max_length=1000)


class ReasonBody(BaseModel):
    reason: str = Field(min_length=2, max_length=1000)


class ConsultationBody(BaseModel):
    candidates: list[str] = Field(min_length=2, max_length=20, description="ids or names of the units invited")
    reason: str = Field(min_length=2, max_length=1000)


class AnswerBody(BaseModel):
    answer: Literal["lead", "cooperating", "decline"]
    reason: str = Field(default="", max_length=1000)
    round: int | None = Field(default=None, ge=1, description="the round answered (send it: a re-sent answer then counts once)")


class RulingBody(BaseModel):
    lead: str
    cooperating: list[str] = Field(default=[], max_length=20)
    reason: str = Field(min_length=2, max_length=2000)
    save_as_rule: bool = Field(default=False, description="route the next such ticket in this area the same way")
    area: Literal["street", "district"] = "street"


class ReportBody(BaseModel):
    report: str = Field(min_length=2, max_length=4000)


@router.post("/return-request", response_model=TicketSummary, summary="Return the ticket with a reason (退单)")
async def return_request(number: str, body: ReturnBody, actor: UnitActor, client: ClientDep, directory: DirectoryDep):
    ask = AskReturn(actor=actor, reason=body.reason, suggested_unit=unit_id(body.suggested_unit, directory))
    return await update(client, number, "request_return", ask)


@router.post("/return-decision", response_model=TicketSummary, summary="The center approves (改派) or rejects a return")
async def return_decision(number: str, body: ReturnDecisionBody, actor: ActorDep, client: ClientDep, directory: DirectoryDep):
    decision = DecideReturn(actor=actor, approve=body.approve, reassign_to=unit_id(body.reassign_to, directory), note=body.note)
    return await update(client, number, "decide_return", decision)


@router.post("/return-dispute", response_model=TicketSummary, summary="Dispute a rejected return: opens a consultation")
async def return_dispute(number: str, body: ReasonBody, actor: UnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "dispute_return", DisputeReturn(actor=actor, reason=body.reason))


@router.post("/consultation", response_model=TicketSummary, summary="Open a consultation among units (一键会商)")
async def open_consultation(number: str, body: ConsultationBody, actor: ActorDep, client: ClientDep, directory: DirectoryDep):
    candidates = list(dict.fromkeys(unit_id(c, directory) for c in body.candidates))
    return await update(client, number, "open_consultation_now", OpenConsultation(actor=actor, candidates=candidates, reason=body.reason))


@router.post("/consultation/answer", summary="A candidate unit answers the open consultation round")
async def answer_consultation(number: str, body: AnswerBody, actor: UnitActor, client: ClientDep):
    state = await query_state(client, number)
    view = state.open_consultation
    if view is None or view.status != "open":
        raise ApiError(409, f"ticket {number} has no consultation taking answers")
    return await update(client, number, "answer", Answer(actor=actor, **body.model_dump()), workflow_id=view.workflow_id, result_type=None)


@router.post("/ruling", response_model=TicketSummary, summary="A center leader's binding ruling (领导坐诊)")
async def issue_ruling(number: str, body: RulingBody, actor: ActorDep, client: ClientDep, directory: DirectoryDep):
    ruling = IssueRuling(
        actor=actor, lead=unit_id(body.lead, directory), cooperating=[unit_id(u, directory) for u in body.cooperating],
        reason=body.reason, save_as_rule=body.save_as_rule, area=body.area,
    )  # fmt: skip
    return await update(client, number, "issue_ruling", ruling)


@router.post("/report", response_model=TicketSummary, summary="A cooperating unit reports its part to the lead")
async def report_part(number: str, body: ReportBody, actor: UnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, "report_part", ReportPart(actor=actor, report=body.report))


class RuleView(BaseModel):
    category: str
    area: str
    lead: str
    cooperating: list[str]
    ticket: str
    ruled_by: str
    reason: str


@rules_router.get("/responsibility-rules", response_model=list[RuleView], summary="Saved rulings that route new tickets")
async def responsibility_rules(actor: ActorDep, settings: SettingsDep) -> list[RuleView]:
    if actor.role not in (Role.center, Role.leader, Role.supervisor):
        raise ApiError(403, f"role {actor.role.value} may not list responsibility rules")
    rows = await to_thread.run_sync(saved_rules.all_rules, settings.database_url)
    return [RuleView(**r.model_dump(exclude={"id", "created_at", "cooperating"}), cooperating=r.cooperating.split()) for r in rows]
