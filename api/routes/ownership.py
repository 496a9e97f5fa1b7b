"""Who owns it: returns (退单) and their review, consultation (会商) and its answers, the leader's
binding ruling (终诊), and cooperating units' reports (协办反馈)."""

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import (
    ActorDep,
    ClientDep,
    DirectoryDep,
    OversightActor,
    ReviewingActor,
    RoutedUnitActor,
    SessionDep,
    UnitActor,
    unit_id,
)
from api.errors import ApiError
from api.workflow_calls import query_state, update
from domain.handling import ReportPart, ReportPartFields
from domain.ownership.consultation import (
    Answer,
    AnswerFields,
    OpenConsultation,
    OpenConsultationFields,
)
from domain.ownership.returns import (
    AskReturn,
    AskReturnFields,
    DecideReturn,
    DecideReturnFields,
    DisputeReturn,
    DisputeReturnFields,
)
from domain.ownership.ruling import IssueRuling, IssueRulingFields
from domain.ticket import ConsultationView, TicketSummary
from readmodel import db
from readmodel import rules as saved_rules
from workflows.consultation import ConsultationWorkflow
from workflows.ticket import TicketWorkflow

router = APIRouter(prefix="/tickets/{number}", tags=["ownership"])
rules_router = APIRouter(tags=["ownership"])

# The bodies are the commands' own fields; units are named by id, name or alias and resolved here.


class ReturnBody(AskReturnFields):
    suggested_unit: str | None = Field(default=None, description="who the unit thinks owns it (id or name)")


class ReturnDecisionBody(DecideReturnFields):
    reassign_to: str | None = Field(default=None, description="id or name; default: the next candidate")


class ConsultationBody(OpenConsultationFields):
    candidates: list[str] = Field(min_length=2, max_length=20, description="ids or names of the units invited")


class RulingBody(IssueRulingFields):
    lead: str
    cooperating: list[str] = Field(default=[], max_length=20)


@router.post("/return-request", response_model=TicketSummary, summary="Return the ticket with a reason (退单)")
async def return_request(
    number: str, body: ReturnBody, actor: RoutedUnitActor, client: ClientDep, directory: DirectoryDep
) -> TicketSummary:
    suggested = unit_id(body.suggested_unit, directory) if body.suggested_unit else None
    ask = AskReturn(actor=actor, **body.model_dump(exclude={"suggested_unit"}), suggested_unit=suggested)
    return await update(client, number, TicketWorkflow.request_return, ask)


@router.post("/return-decision", response_model=TicketSummary, summary="The center approves (改派) or rejects a return")
async def return_decision(
    number: str, body: ReturnDecisionBody, actor: ReviewingActor, client: ClientDep, directory: DirectoryDep
) -> TicketSummary:
    to = unit_id(body.reassign_to, directory) if body.reassign_to else None
    decision = DecideReturn(actor=actor, **body.model_dump(exclude={"reassign_to"}), reassign_to=to)
    return await update(client, number, TicketWorkflow.decide_return, decision)


@router.post("/return-dispute", response_model=TicketSummary, summary="Dispute a rejected return: opens a consultation")
async def return_dispute(
    number: str, body: DisputeReturnFields, actor: RoutedUnitActor, client: ClientDep
) -> TicketSummary:
    return await update(client, number, TicketWorkflow.dispute_return, DisputeReturn(actor=actor, **body.model_dump()))


@router.post("/consultation", response_model=TicketSummary, summary="Open a consultation among units (一键会商)")
async def open_consultation(
    number: str, body: ConsultationBody, actor: ActorDep, client: ClientDep, directory: DirectoryDep
) -> TicketSummary:
    candidates = list(dict.fromkeys(unit_id(c, directory) for c in body.candidates))
    opening = OpenConsultation(actor=actor, **body.model_dump(exclude={"candidates"}), candidates=candidates)
    return await update(client, number, TicketWorkflow.open_consultation_now, opening)


@router.post("/consultation/answer", summary="A candidate unit answers the open consultation round")
async def answer_consultation(number: str, body: AnswerFields, actor: UnitActor, client: ClientDep) -> ConsultationView:
    state = await query_state(client, number)
    view = state.open_consultation
    if view is None or view.status != "open":
        raise ApiError(409, f"ticket {number} has no consultation taking answers")
    answer = Answer(actor=actor, **body.model_dump())
    return await update(client, number, ConsultationWorkflow.answer, answer, workflow_id=view.workflow_id)


@router.post("/ruling", response_model=TicketSummary, summary="A center leader's binding ruling (领导坐诊)")
async def issue_ruling(
    number: str, body: RulingBody, actor: ActorDep, client: ClientDep, directory: DirectoryDep
) -> TicketSummary:
    ruling = IssueRuling(
        actor=actor, **body.model_dump(exclude={"lead", "cooperating"}), lead=unit_id(body.lead, directory),
        cooperating=[unit_id(u, directory) for u in body.cooperating],
    )  # fmt: skip
    return await update(client, number, TicketWorkflow.issue_ruling, ruling)


@router.post("/report", response_model=TicketSummary, summary="A cooperating unit reports its part to the lead")
async def report_part(number: str, body: ReportPartFields, actor: RoutedUnitActor, client: ClientDep) -> TicketSummary:
    return await update(client, number, TicketWorkflow.report_part, ReportPart(actor=actor, **body.model_dump()))


class RuleView(BaseModel):
    category: str
    area: str
    lead: str
    cooperating: list[str]
    ticket: str
    ruled_by: str
    reason: str


@rules_router.get(
    "/responsibility-rules", response_model=list[RuleView], summary="Saved rulings that route new tickets"
)
async def responsibility_rules(_: OversightActor, session: SessionDep) -> list[RuleView]:
    rows = await db.in_thread(saved_rules.all_rules, session)
    return [
        RuleView(**r.model_dump(exclude={"id", "created_at", "cooperating"}), cooperating=r.cooperating.split())
        for r in rows
    ]
