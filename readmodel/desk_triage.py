"""The desk's triage, composed: the city's lists and places, the knowledge base and the active
triage model, for one request — the path, the top categories, the district and street read from
the address, and the lead and supervising units routing would give.

Used by POST /triage (the preview), POST /tickets (a form without category or street takes the
suggestion), the intake activity (the path, recorded in the ticket's history) and
`hotline bench-triage`. Nothing here runs inside a workflow."""

from pydantic import BaseModel

from catalog.cities import load_directory, load_lists, load_places
from core.logging import get_logger
from core.settings import Settings
from domain.dispatch import route
from domain.errors import Refusal
from domain.intake.address import AddressReading, read_address
from domain.intake.triage import (
    CategoryGuess,
    EmergencyHint,
    EmergencyService,
    TriageDecision,
    emergency_hints,
    suggest,
)
from domain.ticket import Address
from domain.vocabulary import Kind, Tier
from readmodel import db, knowledge, triage_models
from readmodel import rules as readmodel_rules

log = get_logger("triage")


class UnitRef(BaseModel):
    id: str
    name: str


class DeskSuggestion(BaseModel):
    decision: TriageDecision
    hints: list[EmergencyHint]
    categories: list[CategoryGuess]
    address: AddressReading
    lead_unit: UnitRef | None = None
    supervisor_unit: UnitRef | None = None
    routing_reason: str = ""
    model_version: int | None = None


def model_or_none(settings: Settings, wait: bool = True):
    """The active model; None (the lists alone) when it cannot be had — triage never fails for it
    — or, with wait=False, while the first version is still training."""
    try:
        return triage_models.active_model(settings, wait=wait)
    except Exception as e:  # noqa: BLE001  a broken artefact or training data: the lists still work
        log.error("triage model unavailable: the lists decide alone", error=str(e))
        return None


def decide_path(
    settings: Settings, description: str, kind: Kind, emergency_service: EmergencyService | None
) -> TriageDecision:
    lists = load_lists(settings.city)
    with db.session(settings.database_url) as session:
        index, articles = knowledge.index(session)
    model = model_or_none(settings)
    decision = suggest(description, kind, emergency_service, lists, index, articles, model=model)
    decision.model_version = model.version if model is not None else None
    return decision


def categorize(settings: Settings, description: str, model=None) -> list[CategoryGuess]:
    model = model if model is not None else model_or_none(settings)
    if model is None:
        return []
    directory = load_directory(settings.city)
    return [
        CategoryGuess(id=c, name=directory.categories[c].name, confidence=round(p, 3))
        for c, p in model.predict(description).categories
        if c in directory.categories
    ]


def locate(settings: Settings, text: str, district: str | None = None, street: str | None = None) -> AddressReading:
    """The address as given (district and street named on the form win) or as read from the text."""
    directory = load_directory(settings.city)
    reading = read_address(text, directory, load_places(settings.city))
    given_street = directory.find(street, tier=Tier.street) if street else None
    given_district = directory.find(district, tier=Tier.district) if district else None
    if given_street is not None:
        reading.street, reading.street_name = given_street.id, given_street.name
        reading.ambiguous, reading.candidates = False, [c for c in reading.candidates if c.id == given_street.id]
        given_district = given_district or directory.units.get(given_street.parent or "")
    elif given_district is not None and reading.street and directory.units[reading.street].parent != given_district.id:
        reading.street = reading.street_name = None  # the text names a street of another district
    if given_district is not None:
        reading.district, reading.district_name = given_district.id, given_district.name
        if reading.ambiguous:
            inside = [c for c in reading.candidates if c.district == given_district.id]
            reading.candidates = inside or reading.candidates
            if len(inside) == 1:
                reading.street, reading.street_name, reading.ambiguous = inside[0].id, inside[0].name, False
    return reading


def lead_for(
    settings: Settings, category: str, reading: AddressReading, model=None
) -> tuple[UnitRef | None, UnitRef | None, str]:
    """The lead and supervising units routing would give: a saved ruling, else what the center's
    history learned (tickets of the kind there finally led by another unit), else the list."""
    directory = load_directory(settings.city)
    cat = directory.categories.get(category)
    if cat is None:
        return None, None, "no category"
    supervisor = UnitRef(id=cat.supervisor, name=directory.units[cat.supervisor].name)
    if not (reading.district and reading.street):
        if cat.lead != "street":
            return UnitRef(id=cat.lead, name=directory.units[cat.lead].name), supervisor, "responsibility list"
        return None, supervisor, "the street office of the address: the address names no single street"
    try:
        rules = readmodel_rules.for_category(settings.database_url, category)
        r = route(category, Address(district=reading.district, street=reading.street), directory, rules)
    except Refusal as e:
        return None, supervisor, e.reason
    lead, reason = r.lead_unit, r.reason
    model = model if model is not None else model_or_none(settings)
    if model is not None and not reason.startswith("saved ruling"):
        corr = model.lead_correction(category, reading.street, reading.district)
        if corr is not None and corr.unit in directory.units and corr.unit != lead:
            lead = corr.unit
            reason = f"learned: {corr.tickets} closed tickets of the kind here were led by {directory.units[lead].name}"
    return UnitRef(id=lead, name=directory.units[lead].name), supervisor, reason


def suggest_intake(
    settings: Settings,
    description: str,
    kind: Kind,
    emergency_service: EmergencyService | None = None,
    address_text: str = "",
    district: str | None = None,
    street: str | None = None,
    category: str | None = None,
) -> DeskSuggestion:
    lists = load_lists(settings.city)
    model = model_or_none(settings)
    with db.session(settings.database_url) as session:
        index, articles = knowledge.index(session)
    decision = suggest(description, kind, emergency_service, lists, index, articles, model=model)
    decision.model_version = model.version if model is not None else None
    categories = categorize(settings, description, model) if model is not None else []
    reading = locate(settings, address_text, district, street)
    chosen = category or (categories[0].id if categories else None)
    lead = supervisor = None
    reason = ""
    if chosen:
        lead, supervisor, reason = lead_for(settings, chosen, reading, model)
    return DeskSuggestion(
        decision=decision, hints=emergency_hints(description, lists), categories=categories, address=reading,
        lead_unit=lead, supervisor_unit=supervisor, routing_reason=reason,
        model_version=model.version if model is not None else None,
    )  # fmt: skip
