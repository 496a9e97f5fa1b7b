"""Intake (受理): taking a citizen request in (POST /tickets, exactly once per Idempotency-Key, repeats
joined to the open ticket), and the triage preview (分流建议): what intake would do with a request
before it is taken in, so the operator sees the suggestion, the articles that might answer it and
any emergency words, and can override with a reason in POST /tickets."""

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session

from api import intake
from api.deps import DeskActor, DirectoryDep, IntakeActor, SessionDep, SettingsDep
from api.errors import ApiError
from core.settings import Settings
from domain.directory import Directory
from domain.dispatch import check_category, resolve_address
from domain.intake.address import AddressReading
from domain.intake.triage import (
    CategoryGuess,
    EmergencyHint,
    EmergencyService,
    IntakeRecord,
    TriageDecision,
)
from domain.ticket import not_blank
from domain.vocabulary import Kind
from readmodel import db, desk_triage, knowledge
from readmodel.desk_triage import UnitRef

router = APIRouter(tags=["intake"])


class TriageQuestion(BaseModel):
    description: str = Field(min_length=2, max_length=4000)
    kind: Kind
    emergency_service: EmergencyService | None = None
    address: str = Field(default="", max_length=300, description="The address as the citizen gave it")
    district: str | None = Field(default=None, max_length=50, description="District id or name, when known")
    street: str | None = Field(default=None, max_length=50, description="Street office id or name, when known")
    category: str | None = Field(
        default=None, max_length=80, description="Route this category instead of the suggested one"
    )

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
    categories: list[CategoryGuess] = Field(description="the three likeliest categories, with confidence")
    district: UnitRef | None = Field(description="the district read from the address (or given)")
    street: UnitRef | None = Field(description="the street office read from the address; none when ambiguous")
    address: AddressReading = Field(description="what was read from the address: ambiguous, candidates, names found")
    lead_unit: UnitRef | None = Field(description="the lead unit routing would give for the top category")
    supervisor_unit: UnitRef | None = Field(description="the sector supervisor that would get the copy (双派)")
    routing_reason: str = ""
    model_version: int | None = Field(description="the triage model version (none: the lists alone)")


def preview(session: Session, settings: Settings, q: TriageQuestion) -> TriagePreview:
    s = desk_triage.suggest_intake(
        settings, q.description, q.kind, q.emergency_service, q.address, q.district, q.street, q.category
    )
    index, articles = knowledge.index(session)
    candidates = [
        Candidate(id=h.key, title=articles[h.key].title, coverage=round(h.coverage, 3), matched=list(h.matched))
        for h in index.search(q.description, 5)
        if h.key in articles
    ]
    a = s.address
    return TriagePreview(
        suggestion=s.decision, emergency_hints=s.hints, articles=candidates, categories=s.categories,
        district=UnitRef(id=a.district, name=a.district_name or a.district) if a.district else None,
        street=UnitRef(id=a.street, name=a.street_name or a.street) if a.street else None,
        address=a, lead_unit=s.lead_unit, supervisor_unit=s.supervisor_unit, routing_reason=s.routing_reason,
        model_version=s.model_version,
    )  # fmt: skip


def complete_form(settings: Settings, directory: Directory, body: intake.IntakeBody, by: str) -> intake.IntakeBody:
    """The form with its category and street: as filled in, or as suggested from the description
    and the address text; what was suggested and what was chosen is recorded on the ticket."""
    if body.category:
        check_category(body.category, directory)
    # The model is waited for only when the form leaves the category to it.
    model = desk_triage.model_or_none(settings, wait=not body.category)
    guesses = desk_triage.categorize(settings, body.description, model) if model is not None else []
    category = body.category or (guesses[0].id if guesses else None)
    if not category:
        raise ApiError(422, "no category given and none can be suggested: choose one (GET /categories)")
    a = body.address
    reading = desk_triage.locate(settings, a.text, a.district or None, a.street or None)
    if a.district and a.street:
        resolved = resolve_address(a, directory)
    elif reading.street and reading.district:
        resolved = resolve_address(
            a.model_copy(update={"district": reading.district, "street": reading.street}), directory
        )
    elif reading.ambiguous:
        options = "; ".join(f"{c.name} ({c.district_name}, {c.id})" for c in reading.candidates)
        raise ApiError(422, f"the address fits more than one street: {options}. Give address.street")
    else:
        raise ApiError(
            422, "the address names no street office the directory knows: give address.district and address.street"
        )
    unread = desk_triage.locate(settings, a.text)  # what the address alone says, for the record
    record = IntakeRecord(
        model_version=model.version if model is not None else None, suggested_categories=guesses, category=category,
        category_by=by if body.category else "suggestion", suggested_street=unread.street,
        address_ambiguous=unread.ambiguous, street=resolved.street, street_by=by if a.street else "suggestion",
    )  # fmt: skip
    return body.model_copy(update={"category": category, "address": resolved, "intake": record})


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
    digest = intake.request_hash(body)  # of the request as sent: suggestions do not make a retry differ
    body = await to_thread.run_sync(complete_form, settings, directory, body, actor.label)
    created, new = await intake.take_in(
        request.app.state.temporal.get, settings, session, body, idempotency_key, actor.label, digest
    )
    request.app.state.metrics.intake(body.channel.value, new, created.merged, created.started)
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    if created.merged:
        response.status_code = status.HTTP_200_OK
    elif not created.started:
        response.status_code = status.HTTP_202_ACCEPTED
    response.headers["Location"] = f"/tickets/{created.number}"
    return created
