"""Intake triage (受理分流): the five paths a request can take at the desk.

    direct answer       a consultation the knowledge base answers: closed at intake with it
    out of scope        on the city's out-of-scope list: explained and closed, no dispatch
    emergency transfer  flagged for 110 / 119 / 120 / 122: transferred at once, link kept
    legal channel       for a court, arbitration, the police or the petition office: guidance
    dispatch            everything else

The lists are city data (catalog/cities/<city>/*.toml); the knowledge base is in the read model.
The operator may override the decision with a reason, which is recorded."""

from enum import StrEnum
from typing import TYPE_CHECKING, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from domain.vocabulary import Kind

if TYPE_CHECKING:  # jieba and numpy stay out of modules that only need the models (workflows)
    from domain.intake.textsearch import Hit, TextIndex


class TriagePath(StrEnum):
    direct_answer = "direct_answer"
    out_of_scope = "out_of_scope"
    emergency_transfer = "emergency_transfer"
    legal_channel = "legal_channel"
    dispatch = "dispatch"


class EmergencyService(StrEnum):
    police = "110"
    fire = "119"
    ambulance = "120"
    traffic = "122"


# -- the city's lists --------------------------------------------------------------------------


class OutOfScopeCategory(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    explanation: str
    cases: list[str] = Field(min_length=1)


class LegalChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    guidance: str
    cases: list[str] = Field(min_length=1)


class Emergency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: EmergencyService
    name: str
    transfer_script: str
    keywords: list[str] = []


class TriageLists(BaseModel):
    out_of_scope: list[OutOfScopeCategory]
    legal_channels: list[LegalChannel]
    emergencies: list[Emergency]

    def out_of_scope_index(self) -> "TextIndex":
        from domain.intake.textsearch import cached_index

        return cached_index(tuple((c.id, case) for c in self.out_of_scope for case in c.cases))

    def legal_index(self) -> "TextIndex":
        from domain.intake.textsearch import cached_index

        return cached_index(tuple((c.id, case) for c in self.legal_channels for case in c.cases))


# -- decisions ---------------------------------------------------------------------------------


class Article(BaseModel):
    """A knowledge-base article as triage and the citizen see it."""

    id: str
    title: str
    answer: str


class TriageOverride(BaseModel):
    """The operator's decision instead of the suggestion, with a reason (recorded)."""

    path: TriagePath
    reason: str = Field(min_length=2, max_length=500)
    article_id: str | None = None  # direct_answer
    out_of_scope_id: str | None = None  # out_of_scope
    legal_channel: str | None = None  # legal_channel
    emergency_service: EmergencyService | None = None  # emergency_transfer


class TriageDecision(BaseModel):
    path: TriagePath
    reason: str
    confidence: float = 0.0
    article: Article | None = None
    out_of_scope: OutOfScopeCategory | None = None
    legal_channel: LegalChannel | None = None
    emergency: Emergency | None = None
    overridden_by: str | None = None
    suggested: TriagePath | None = None  # what triage would have said, when overridden


class Thresholds(BaseModel):
    """How sure a match must be: the share of a candidate's words the request contains, and at
    least two words in common (one shared word is a coincidence)."""

    direct_answer: float = 0.5
    out_of_scope: float = 0.6
    legal_channel: float = 0.6
    min_matched: int = 2


DEFAULT_THRESHOLDS = Thresholds()


class EmergencyHint(BaseModel):
    """Words in the request that signal an emergency: the operator decides whether to transfer."""

    number: EmergencyService
    name: str
    matched: list[str]


def emergency_hints(description: str, lists: TriageLists) -> list[EmergencyHint]:
    text = description.replace(" ", "")
    hints = []
    for e in lists.emergencies:
        matched = [k for k in e.keywords if k in text]
        if matched:
            hints.append(EmergencyHint(number=e.number, name=e.name, matched=matched))
    return sorted(hints, key=lambda h: len(h.matched), reverse=True)


def _confident(hit: "Hit | None", threshold: float, t: Thresholds) -> "TypeGuard[Hit]":
    return hit is not None and hit.coverage >= threshold and len(hit.matched) >= t.min_matched


def suggest(
    description: str,
    kind: Kind,
    emergency_service: EmergencyService | None,
    lists: TriageLists,
    knowledge: "TextIndex",
    articles: dict[str, Article],
    t: Thresholds = DEFAULT_THRESHOLDS,
) -> TriageDecision:
    """The path the desk would take without an override, with the reason."""
    if emergency_service is not None:
        em = next((e for e in lists.emergencies if e.number == emergency_service), None)
        if em is not None:
            return TriageDecision(
                path=TriagePath.emergency_transfer,
                reason=f"flagged for {em.number} {em.name}",
                confidence=1.0,
                emergency=em,
            )
    legal = next(iter(lists.legal_index().search(description, 1)), None)
    if _confident(legal, t.legal_channel, t):
        ch = next(c for c in lists.legal_channels if c.id == legal.key)
        return TriageDecision(
            path=TriagePath.legal_channel,
            reason=f"belongs to {ch.name}: {'、'.join(legal.matched)}",
            confidence=legal.coverage,
            legal_channel=ch,
        )
    oos = next(iter(lists.out_of_scope_index().search(description, 1)), None)
    if _confident(oos, t.out_of_scope, t):
        cat = next(c for c in lists.out_of_scope if c.id == oos.key)
        return TriageDecision(
            path=TriagePath.out_of_scope, reason=f"out of scope: {cat.name}", confidence=oos.coverage, out_of_scope=cat
        )
    if kind == Kind.consultation:
        hit = next(iter(knowledge.search(description, 1)), None)
        if _confident(hit, t.direct_answer, t) and hit.key in articles:
            art = articles[hit.key]
            return TriageDecision(
                path=TriagePath.direct_answer,
                reason=f"knowledge base: {art.title}",
                confidence=hit.coverage,
                article=art,
            )
    return TriageDecision(path=TriagePath.dispatch, reason="in scope: dispatch to the responsible unit")


def apply_override(
    suggested: TriageDecision, o: TriageOverride, by: str, lists: TriageLists, articles: dict[str, Article]
) -> TriageDecision:
    """The operator's path, with what it needs (the article, the list entry, the service)."""
    d = TriageDecision(path=o.path, reason=o.reason, confidence=1.0, overridden_by=by, suggested=suggested.path)
    if o.path == TriagePath.direct_answer:
        d.article = articles.get(o.article_id or "") or suggested.article
        if d.article is None:
            raise ValueError(f"no knowledge-base article {o.article_id!r} to answer with")
    elif o.path == TriagePath.out_of_scope:
        d.out_of_scope = (
            next((c for c in lists.out_of_scope if c.id == o.out_of_scope_id), None) or suggested.out_of_scope
        )
        if d.out_of_scope is None:
            raise ValueError(f"no out-of-scope category {o.out_of_scope_id!r}")
    elif o.path == TriagePath.legal_channel:
        d.legal_channel = (
            next((c for c in lists.legal_channels if c.id == o.legal_channel), None) or suggested.legal_channel
        )
        if d.legal_channel is None:
            raise ValueError(f"no legal channel {o.legal_channel!r}")
    elif o.path == TriagePath.emergency_transfer:
        d.emergency = (
            next((e for e in lists.emergencies if e.number == o.emergency_service), None) or suggested.emergency
        )
        if d.emergency is None:
            raise ValueError("an emergency transfer needs emergency_service (110, 119, 120 or 122)")
    return d
