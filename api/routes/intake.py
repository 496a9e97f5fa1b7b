"""Intake (受理): taking a citizen request in (POST /tickets, exactly once per Idempotency-Key, repeats
joined to the open ticket), and the triage preview (分流建议): what intake would do with a request
before it is taken in, so the operator sees the suggestion, the articles that might answer it and
any emergency words, and can override with a reason in POST /tickets."""

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from api import intake
from api.deps import DeskActor, DirectoryDep, IntakeActor, SessionDep, SettingsDep
from catalog.cities import load_lists
from core.settings import Settings
from domain.dispatch import check_category, resolve_address
from domain.intake.triage import (
    EmergencyHint,
    EmergencyService,
    TriageDecision,
    emergency_hints,
    suggest,
)
from domain.ticket import not_blank
from domain.vocabulary import Kind
from readmodel import db, knowledge

router = APIRouter(tags=["intake"])


class TriageQuestion(BaseModel):
    description: str = Field(min_length=2, max_length=4000)
    kind: Kind
    emergency_service: EmergencyService | None = None

    @field_validator("description")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        return not_blank(v)


class Candidate(BaseModel):
    id: str
    title: str
    coverage: float
    matched: list[str]


class TriagePreview(BaseModel):
    suggestion: TriageDecision
    emergency_hints: list[EmergencyHint] = Field(
        description="emergency words heard: flag emergency_service to transfer"
    )
    articles: list[Candidate] = Field(description="knowledge-base articles that may answer it, best first")


def preview(session: Session, settings: Settings, q: TriageQuestion) -> TriagePreview:
    lists = load_lists(settings.city)
    index, articles = knowledge.index(session)
    suggestion = suggest(q.description, q.kind, q.emergency_service, lists, index, articles)
    candidates = [
        Candidate(id=h.key, title=articles[h.key].title, coverage=round(h.coverage, 3), matched=list(h.matched))
        for h in index.search(q.description, 5)
        if h.key in articles
    ]
    hints = emergency_hints(q.description, lists)
    return TriagePreview(suggestion=suggestion, emergency_hints=hints, articles=candidates)


@router.post("/triage", response_model=TriagePreview, summary="Preview the intake path of a request")
async def triage_preview(
    body: TriageQuestion, _: DeskActor, settings: SettingsDep, session: SessionDep
) -> TriagePreview:
    return await db.in_thread(preview, session, settings, body)


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=intake.TicketCreated,
    summary="Take in a citizen request (受理)",
    responses={
        200: {"description": "A repeat of an open ticket: joined to it (并单); the number is that ticket's"},
        202: {"description": "Recorded; the workflow starts as soon as Temporal is reachable"},
    },
)
async def create_ticket(
    body: intake.IntakeBody,
    request: Request,
    response: Response,
    actor: IntakeActor,
    settings: SettingsDep,
    session: SessionDep,
    directory: DirectoryDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Retries with the same key return the same ticket"),
    ] = None,
) -> intake.TicketCreated:
    check_category(body.category, directory)
    body = body.model_copy(update={"address": resolve_address(body.address, directory)})
    created, new = await intake.take_in(
        request.app.state.temporal.get, settings, session, body, idempotency_key, actor.label
    )
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    if created.merged:
        response.status_code = status.HTTP_200_OK
    elif not created.started:
        response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"/tickets/{created.number}"
    return created
