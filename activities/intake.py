"""Intake: route the ticket, fix its policy pack and calendar."""

from temporalio import activity

from catalog.calendar import build_calendar
from catalog.cities import load_directory, load_lists
from catalog.policies import load_pack
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import IntakeDecision
from domain.deadlines.calendar import CHINA_TZ
from domain.dispatch import route
from domain.errors import Refusal
from domain.intake.triage import TriageDecision, apply_override, filed_in_scope, suggest
from domain.privacy import phone_hash
from domain.ticket import Routing, TicketInput
from readmodel import db, knowledge
from readmodel import rules as readmodel_rules
from readmodel.desk_triage import model_or_none

# A ticket may live long (rehandles, extensions): give it the calendar of this year and the next two.
CALENDAR_YEARS = 3


class IntakeActivities:
    def __init__(self, settings: Settings):
        self.settings = settings
        # Segmentation dictionary and the city's list indexes are built once, at start-up, not on
        # the first citizen's request (jieba takes about a second to load).
        lists = load_lists(settings.city)
        lists.out_of_scope_index()
        lists.legal_index()
        import domain.intake.model  # noqa: F401  scikit-learn: imported once, not on a citizen's request

    @activity.defn
    def decide_intake(self, input: TicketInput) -> IntakeDecision:
        log = get_logger("intake", ticket=input.number, workflow_id=activity.info().workflow_id)
        directory = load_directory(self.settings.city)
        req = input.request
        try:
            rules = readmodel_rules.for_category(self.settings.database_url, req.category)
            routing = route(req.category, req.address, directory, rules)
        except Refusal as r:
            # The API validates before starting, so this means the data changed underneath:
            # the center triages by hand rather than the ticket being lost.
            center = directory.center()
            routing = Routing(
                lead_unit=center.id,
                supervisor_unit=center.id,
                street_unit=center.id,
                district_unit=center.id,
                escalation_chain=[center.id],
                escalation_tiers=[center.tier],
                unit_names={center.id: center.name},
                reason=f"could not route ({r.reason}); the center triages it",
            )
        pack = load_pack(input.policy_pack or self.settings.policy_pack, self.settings.policy_dir)
        year = input.received_at.astimezone(CHINA_TZ).year
        calendar = build_calendar(range(year, year + CALENDAR_YEARS), self.settings.calendar_file)
        decision = triage(self.settings, input)
        log.info(
            "triaged", path=decision.path.value, unit=routing.lead_unit, supervisor=routing.supervisor_unit,
            policy=pack.name, overridden=bool(decision.overridden_by),
        )  # fmt: skip
        return IntakeDecision(
            routing=routing,
            policy=pack,
            calendar=calendar,
            citizen_key=phone_hash(req.citizen.phone, self.settings.phone_hash_salt.get_secret_value()),
            triage=decision,
        )


def triage(settings: Settings, input: TicketInput) -> TriageDecision:
    """The five paths: the suggestion from the lists, the knowledge base and the active triage
    model, or the operator's override. A stale override (an article deleted since) falls back to
    the suggestion. The decision carries what intake suggested for the form and what was chosen."""
    req = input.request
    lists = load_lists(settings.city)
    with db.session(settings.database_url) as session:
        index, articles = knowledge.index(session)
    model = model_or_none(settings, wait=False)  # a ticket never waits for a first training
    suggested = suggest(req.description, req.kind, req.emergency_service, lists, index, articles, model=model)
    recorded = {"model_version": model.version if model is not None else None, "intake": input.intake}
    suggested = suggested.model_copy(update=recorded)
    if input.triage_override is None:
        operator_chose = input.intake is None or input.intake.category_by != "suggestion"
        return filed_in_scope(suggested, input.request.category if operator_chose else None)
    try:
        decided = apply_override(suggested, input.triage_override, input.received_by, lists, articles)
        return decided.model_copy(update=recorded)
    except ValueError as e:
        return suggested.model_copy(update={"reason": f"{suggested.reason} (override not applied: {e})"})
