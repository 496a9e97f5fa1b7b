"""Who a unit is (for reassignment and rulings) and saved rulings (for the next ticket)."""

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from catalog.cities import load_directory
from core.logging import get_logger
from core.settings import Settings
from domain.dispatch import unit_info
from domain.errors import Refusal
from domain.ownership.ruling import ResponsibilityRule
from domain.ticket import UnitInfo
from readmodel import rules


class OwnershipActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn
    def resolve_units(self, ids: list[str]) -> dict[str, UnitInfo]:
        directory = load_directory(self.settings.city)
        try:
            return {u: unit_info(u, directory) for u in dict.fromkeys(ids)}
        except Refusal as r:  # the API checks ids first; a unit removed since cannot come back
            raise ApplicationError(r.reason, type="UnknownUnit", non_retryable=True) from None

    @activity.defn
    async def save_responsibility_rule(self, rule: ResponsibilityRule) -> None:
        await asyncio.to_thread(rules.save, self.settings.database_url, rule)
        get_logger("responsibility", ticket=rule.ticket, unit=rule.lead).info(
            "responsibility rule saved", category=rule.category, area=rule.area
        )
