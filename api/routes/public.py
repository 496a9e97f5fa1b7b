"""Citizen self-service (自助查询与评价): no token; the ticket number plus the phone it was filed
with opens it. A wrong phone gets the same 404 as a wrong number, never a hint, and repeated
wrong guesses on one number are turned away for a while.

The citizen sees progress in plain words, masked details and the unit's reply, and may rate the
reply online — which makes the callback unnecessary."""

import asyncio
import hmac
import time
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlmodel import Session
from temporalio.client import Client

from api.deps import ClientDep, MaybeClientDep, SessionDep, SettingsDep
from api.errors import ApiError, not_found
from api.workflow_calls import query_state, update
from core.settings import Settings
from domain.callback import OnlineRating, answer_of_round, check_online
from domain.errors import Refusal
from domain.privacy import (
    mask_name,
    mask_phone,
    normalize_phone,
    phone_hash,
    scrub_phones,
)
from domain.ticket import CallbackAnswer, TicketState
from domain.vocabulary import Outcome, Satisfaction, Stage
from readmodel import db, lookups
from readmodel.tickets import stored_ticket
from workflows.ticket import TicketWorkflow

router = APIRouter(prefix="/public/tickets/{number}", tags=["citizen self-service"])

# What the citizen sees of the timeline, in the words a hotline uses with citizens.
PUBLIC_EVENTS = {
    "received": "已受理",
    "merged": "您的再次反映已并入本工单",
    "dispatched": "已派发至承办单位：{unit}",
    "acknowledged": "承办单位已签收",
    "escalated": "已提级协调办理",
    "deadline_moved": "办理期限已调整",
    "completed": "承办单位已答复",
    "rehandle": "已退回承办单位重新办理",
    "callback_requested": "等待回访",
    "callback_answered": "已回访",
    "rated_online": "您已在线评价",
    "answered": "已直接答复",
    "explained": "不属于热线受理范围，已向您说明",
    "guided": "已告知应通过的法定途径",
    "transferred": "已转接紧急救助部门",
    "followed_up": "紧急救助部门已处置",
    "sent_back_by_emergency_service": "紧急救助部门转回热线，将派发办理",
    "closed": "已办结",
}

STAGE_WORDS = {
    Stage.intake: "受理中",
    Stage.follow_up: "已转接紧急救助部门，跟踪中",
    Stage.dispatch: "派发中",
    Stage.handling: "办理中",
    Stage.rehandle: "重新办理中",
    Stage.callback: "待回访/待评价",
    Stage.closed: "已办结",
}

FAILURE_WINDOW = timedelta(hours=1)
# Every "no" takes at least this long, whether the number does not exist or the phone is wrong:
# the time of the answer tells nothing (a wrong number was 4 ms, a wrong phone 9 ms).
FAILURE_SECONDS = 0.3


class PhoneProof(BaseModel):
    phone: str = Field(min_length=5, max_length=24, description="the phone number the request was filed with")


class OnlineRatingBody(PhoneProof):
    resolved: bool
    satisfaction: Satisfaction
    comment: str = Field(default="", max_length=1000)


class Progress(BaseModel):
    at: datetime
    what: str


class PublicTicket(BaseModel):
    number: str
    status: str
    stage: Stage
    category: str
    received_at: datetime
    name: str
    phone: str | None
    description: str
    place: str
    handling_unit: str | None
    deadline: datetime | None
    deadline_estimated: bool = Field(
        default=False, description="the deadline is an estimate: next year's official holiday schedule is not out yet"
    )
    progress: list[Progress]
    reply: str | None = Field(description="the handling unit's answer, or the desk's at intake")
    outcome: Outcome | None
    can_rate: bool
    rating: Satisfaction | None = None


def _client_key(request: Request, settings: Settings) -> str:
    """A salted hash of the caller's address: the read model keeps no IP address either."""
    host = request.client.host if request.client else "unknown"
    return phone_hash(f"client:{host}", settings.phone_hash_salt.get_secret_value()) or ""


def _client_blocked(session: Session, settings: Settings, client: str) -> bool:
    since = datetime.now(UTC) - FAILURE_WINDOW
    return lookups.client_failures_since(session, client, since) >= settings.lookup_failures_per_client


def _number_hot(session: Session, settings: Settings, number: str) -> bool:
    since = datetime.now(UTC) - FAILURE_WINDOW
    return lookups.failures_since(session, number, since) >= settings.lookup_failures_per_number


def _same_phone(a: str | None, b: str) -> bool:
    # Compared whole, in constant time: no early exit on the first wrong digit.
    return hmac.compare_digest(normalize_phone(a or ""), normalize_phone(b)) and bool(a)


def _too_many() -> ApiError:
    retry = {"Retry-After": str(int(FAILURE_WINDOW.total_seconds()))}
    return ApiError(429, "too many wrong attempts; try again later", retry)


def _from_read_model(session: Session, settings: Settings, number: str, phone: str) -> TicketState | None:
    """A ticket past Temporal's retention (or while Temporal is away): the read model keeps its
    masked state and the phone's salted hash, enough to let its citizen in."""
    row = stored_ticket(session, number)
    key = phone_hash(phone, settings.phone_hash_salt.get_secret_value())
    if row is None or not row.citizen_key or not hmac.compare_digest(row.citizen_key, key or ""):
        return None
    return TicketState.model_validate_json(row.state_json)


async def _verified(
    request: Request, client: Client | None, settings: Settings, session: Session, number: str, phone: str
) -> tuple[TicketState, bool]:
    """The ticket and whether the phone is the filer's (False: a merged repeat's caller)."""
    started = time.monotonic()
    who = _client_key(request, settings)
    if await db.in_thread(_client_blocked, session, settings, who):
        raise _too_many()
    s = None
    if client is not None:
        try:
            s = await query_state(client, number)
        except ApiError as e:
            if e.status not in (404, 503):
                raise
    # The same work whatever the answer: every phone of the ticket compared (no early exit), and
    # the read model asked whether the live ticket was found or not.
    filer = s is not None and _same_phone(s.request.citizen.phone, phone)
    repeat = s is not None and sum(_same_phone(a.citizen.phone, phone) for a in s.appeals) > 0
    kept = await db.in_thread(_from_read_model, session, settings, number, phone)
    if s is not None and (filer or repeat):
        return s, filer
    if s is None and kept is not None:
        return kept, True
    hot = await db.in_thread(_number_hot, session, settings, number)
    await db.in_thread(lookups.record_failure, session, number, datetime.now(UTC), FAILURE_WINDOW, who)
    await asyncio.sleep(max(0.0, FAILURE_SECONDS - (time.monotonic() - started)))
    if hot:
        raise _too_many()  # the number is under attack: wrong phones wait, the right one still opens
    raise not_found(f"no ticket {number} filed with this phone number")


def _reply(s: TicketState) -> str | None:
    if s.completion:
        return s.completion.reply
    t = s.triage
    if t is None:
        return None
    if t.article:
        return t.article.answer
    if t.out_of_scope:
        return t.out_of_scope.explanation
    if t.legal_channel:
        return t.legal_channel.guidance
    if t.emergency:
        return t.emergency.transfer_script
    return None


def public_view(s: TicketState, filer: bool) -> PublicTicket:
    progress = []
    for e in s.timeline:
        words = PUBLIC_EVENTS.get(e.event)
        if words:
            unit = s.name_of(s.first_responsible_unit) if e.event == "dispatched" else ""
            progress.append(Progress(at=e.at, what=words.format(unit=unit)))
    try:
        check_online(s)
        can_rate = filer
    except Refusal:
        can_rate = False
    answer = answer_of_round(s) if s.stage != Stage.intake else None
    a = s.request.address
    citizen = s.request.citizen
    return PublicTicket(
        number=s.number,
        status=STAGE_WORDS.get(s.stage, s.stage.value),
        stage=s.stage,
        category=s.request.category,
        received_at=s.received_at,
        name=mask_name(citizen.name),
        phone=mask_phone(citizen.phone),
        description=scrub_phones(s.request.description),
        place=s.name_of(a.street) or a.street or "",
        # Only a dispatched ticket has a handling unit; one closed or transferred at the desk has none.
        handling_unit=(s.name_of(s.coordinator_unit or s.lead_unit) or None) if s.dispatched_at else None,
        deadline=s.deadline,
        deadline_estimated=s.deadline_estimated,
        progress=progress,
        reply=_reply(s),
        outcome=s.outcome,
        can_rate=can_rate,
        rating=answer.satisfaction if answer else None,
    )


@router.post("/lookup", response_model=PublicTicket, summary="Look up one's ticket by number and phone")
async def lookup(
    number: str, body: PhoneProof, request: Request, client: MaybeClientDep, settings: SettingsDep, session: SessionDep
) -> PublicTicket:
    s, filer = await _verified(request, client, settings, session, number, body.phone)
    return public_view(s, filer)


@router.post("/rating", response_model=PublicTicket, summary="Rate the reply online (no callback needed then)")
async def rate(
    number: str,
    body: OnlineRatingBody,
    request: Request,
    client: ClientDep,
    settings: SettingsDep,
    session: SessionDep,
) -> PublicTicket:
    _, filer = await _verified(request, client, settings, session, number, body.phone)
    if not filer:
        raise ApiError(403, f"ticket {number} can be rated by the citizen who filed it")
    answer = CallbackAnswer(reached=True, resolved=body.resolved, satisfaction=body.satisfaction, comment=body.comment)
    await update(client, number, TicketWorkflow.rate_online, OnlineRating(answer=answer))
    return public_view(await query_state(client, number), True)
