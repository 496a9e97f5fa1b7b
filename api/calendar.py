"""The center applies next year's official holiday schedule to its open tickets: every open ticket
whose deadline was only estimated gets the new calendar through its workflow (update
`apply_calendar`), which re-times the estimated deadlines and keeps the calendar from then on.
Used by `hotline calendar apply` and by POST /calendar/apply. Running it again is harmless: a
ticket re-timed on an official calendar is no longer estimated and is not sent it again."""

from datetime import datetime

from anyio import to_thread
from pydantic import BaseModel
from temporalio.client import Client

from api.errors import ApiError
from api.workflow_calls import update
from domain.deadlines.calendar import WorkCalendar
from domain.deadlines.clocks import ApplyCalendar
from domain.ticket import Actor
from readmodel import db
from readmodel.tickets import open_with_estimated_deadline
from workflows.ticket import TicketWorkflow


class YearApplied(BaseModel):
    year: int
    source: str  # center_file | chinese_calendar | rule_based
    official: bool


class TicketRetimed(BaseModel):
    number: str
    before: datetime | None
    after: datetime | None
    still_estimated: bool


class TicketNotRetimed(BaseModel):
    number: str
    reason: str


class CalendarApplied(BaseModel):
    years: list[YearApplied]
    retimed: list[TicketRetimed]  # every ticket sent the calendar, moved or not
    failed: list[TicketNotRetimed]


async def apply_to_open_tickets(
    client: Client, database_url: str, calendar: WorkCalendar, actor: Actor, note: str = ""
) -> CalendarApplied:
    def open_rows() -> list:
        with db.session(database_url) as session:
            return open_with_estimated_deadline(session)

    rows = await to_thread.run_sync(open_rows)
    command = ApplyCalendar(actor=actor, calendar=calendar, note=note)
    retimed, failed = [], []
    for row in rows:
        try:
            summary = await update(client, row.number, TicketWorkflow.apply_calendar, command)
        except ApiError as e:  # closed meanwhile, or no worker: the next run picks it up again
            failed.append(TicketNotRetimed(number=row.number, reason=e.reason))
            continue
        after = summary.deadline
        retimed.append(
            TicketRetimed(
                number=row.number, before=row.deadline, after=after,
                still_estimated=bool(after and calendar.is_estimated(after.date())),
            )
        )  # fmt: skip
    years = [YearApplied(year=y, source=c.source, official=c.official) for y, c in sorted(calendar.years.items())]
    return CalendarApplied(years=years, retimed=retimed, failed=failed)
