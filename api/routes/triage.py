"""Triage preview (分流建议): what intake would do with a request, before it is taken in, so the
operator sees the suggestion, the articles that might answer it and any emergency words, and can
override with a reason in POST /tickets."""

from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.deps import SettingsDep, require
from core.settings import Settings
from domain.ticket import Actor
from domain.triage import EmergencyHint, EmergencyService, TriageDecision, emergency_hints, load_lists, suggest
from domain.vocabulary import Kind, Role
from readmodel import knowledge

router = APIRouter(tags=["intake"])

DeskActor = Annotated[Actor, Depends(require(Role.intake, Role.center, Role.supervisor, what="preview triage"))]


class TriageQuestion(BaseModel):
    description: str = Field(min_length=2, max_length=4000)
    kind: Kind
    emergency_service: EmergencyService | None = None


class Candidate(BaseModel):
    id: str
    title: str
    coverage: float
    matched: list[str]


class TriagePreview(BaseModel):
    suggestion: TriageDecision
    emergency_hints: list[EmergencyHint] = Field(description="emergency words heard: flag emergency_service to transfer")
    articles: list[Candidate] = Field(description="knowledge-base articles that may answer it, best first")


def preview(settings: Settings, q: TriageQuestion) -> TriagePreview:
    lists = load_lists(settings.city)
    index, articles = knowledge.index(settings.database_url)
    suggestion = suggest(q.description, q.kind, q.emergency_service, lists, index, articles)
    candidates = [
        Candidate(id=h.key, title=articles[h.key].title, coverage=round(h.coverage, 3), matched=list(h.matched))
        for h in index.search(q.description, 5)
        if h.key in articles
    ]
    return TriagePreview(suggestion=suggestion, emergency_hints=emergency_hints(q.description, lists), articles=candidates)


@router.post("/triage", response_model=TriagePreview, summary="Preview the intake path of a request")
async def triage_preview(body: TriageQuestion, _: DeskActor, settings: SettingsDep) -> TriagePreview:
    return await to_thread.run_sync(preview, settings, body)
