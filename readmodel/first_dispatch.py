"""First-dispatch accuracy (一次转办准确率): of the dispatched tickets closed in a period, the share
closed by the unit first dispatched to — no approved return, reassignment or ruling moved it.

Read from the read model (each closed ticket's stored state), by month of closing (Beijing time)
and by category."""

import json
from collections import defaultdict
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlmodel import col, select

from domain.deadlines.calendar import CHINA_TZ
from readmodel import db
from readmodel.tables import TicketRow


class Share(BaseModel):
    tickets: int = 0
    kept: int = 0  # closed by the first-dispatched unit

    @property
    def rate(self) -> float | None:
        return round(self.kept / self.tickets, 4) if self.tickets else None


class MonthShare(BaseModel):
    month: str
    tickets: int
    kept: int
    rate: float | None


class CategoryShare(BaseModel):
    category: str
    tickets: int
    kept: int
    rate: float | None


class FirstDispatch(BaseModel):
    since: datetime | None
    until: datetime | None
    tickets: int
    kept: int
    rate: float | None
    by_month: list[MonthShare]
    by_category: list[CategoryShare]


def kept_by_first_unit(state: dict, lead_unit: str | None) -> bool:
    """The first-dispatched unit closed it, and nothing moved it away on the way."""
    first = state.get("first_responsible_unit")
    if not first or lead_unit != first or state.get("previous_leads"):
        return False
    if any(r.get("status") == "approved" or r.get("reassigned_to") for r in state.get("returns") or []):
        return False
    ruling = state.get("ruling")
    return not (ruling and ruling.get("lead") != first)


def first_dispatch(url: str, since: datetime | None = None, until: datetime | None = None) -> FirstDispatch:
    where = [col(TicketRow.intake_path) == "dispatch", col(TicketRow.closed_at).is_not(None)]
    if since:
        where.append(col(TicketRow.closed_at) >= since.astimezone(UTC))
    if until:
        where.append(col(TicketRow.closed_at) < until.astimezone(UTC))
    months: dict[str, Share] = defaultdict(Share)
    categories: dict[str, Share] = defaultdict(Share)
    total = Share()
    with db.session(url) as session:
        rows = session.exec(
            select(TicketRow.closed_at, TicketRow.category, TicketRow.lead_unit, TicketRow.state_json).where(*where)
        ).all()
    for closed_at, category, lead_unit, state_json in rows:
        kept = kept_by_first_unit(json.loads(state_json), lead_unit)
        assert closed_at is not None  # selected: closed tickets only
        at = closed_at if closed_at.tzinfo else closed_at.replace(tzinfo=UTC)
        for share in (total, months[f"{at.astimezone(CHINA_TZ):%Y-%m}"], categories[category]):
            share.tickets += 1
            share.kept += kept
    return FirstDispatch(
        since=since, until=until, tickets=total.tickets, kept=total.kept, rate=total.rate,
        by_month=[MonthShare(month=m, tickets=s.tickets, kept=s.kept, rate=s.rate) for m, s in sorted(months.items())],
        by_category=[
            CategoryShare(category=c, tickets=s.tickets, kept=s.kept, rate=s.rate)
            for c, s in sorted(categories.items(), key=lambda kv: (-kv[1].tickets, kv[0]))
        ],
    )  # fmt: skip
