"""The center's calendar: next year's official holiday schedule applied to open tickets."""

from datetime import UTC, datetime
from typing import Annotated

from anyio import to_thread
from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from api.calendar import CalendarApplied, apply_to_open_tickets
from api.deps import ClientDep, SettingsDep, require
from api.errors import ApiError
from catalog.calendar import calendar_to_apply
from domain.deadlines.calendar import CHINA_TZ
from domain.ticket import Actor
from domain.vocabulary import Role

router = APIRouter(prefix="/calendar", tags=["calendar"])

CenterActor = Annotated[Actor, Depends(require(Role.center, what="apply a calendar to open tickets"))]


class ApplyBody(BaseModel):
    note: str = Field(default="", max_length=500, description="e.g. the State Council notice the schedule comes from")


@router.post(
    "/apply", response_model=CalendarApplied,
    summary="Apply the center's calendar file (next year's official schedule) to open tickets with estimated deadlines",
)  # fmt: skip
async def apply(actor: CenterActor, client: ClientDep, settings: SettingsDep, body: ApplyBody | None = None):
    today = datetime.now(UTC).astimezone(CHINA_TZ).date()
    try:
        calendar = await to_thread.run_sync(calendar_to_apply, today, settings.calendar_file)
    except ValueError as e:  # the center's file does not read: say where
        raise ApiError(422, str(e)) from e
    return await apply_to_open_tickets(client, settings.database_url, calendar, actor, body.note if body else "")
