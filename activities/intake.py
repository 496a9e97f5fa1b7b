"""Intake: route the ticket, fix its policy pack and calendar."""


from temporalio import activity

from core.logging import get_logger
from core.settings import Settings
from domain.calendar import CHINA_TZ, build_calendar
from domain.contracts import IntakeDecision
from domain.directory import load_directory
from domain.errors import Refusal
from domain.policy import load_pack
from domain.privacy import phone_hash
from domain.routing import route
from domain.ticket import Routing, TicketInput
from readmodel import rules as readmodel_rules
from workflows.activities import DECIDE_INTAKE

# A ticket may live long (rehandles, extensions): give it the calendar of this year and the next two.
CALENDAR_YEARS = 3


class IntakeActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn(name=DECIDE_INTAKE)
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
        calendar = build_calendar(range(year, year + CALENDAR_YEARS))
        log.info("routed", unit=routing.lead_unit, supervisor=routing.supervisor_unit, policy=pack.name)
        return IntakeDecision(
            routing=routing,
            policy=pack,
            calendar=calendar,
            citizen_key=phone_hash(req.citizen.phone, self.settings.phone_hash_salt),
        )


