"""Taking a request in exactly once: as a new ticket, or as a repeat that joins an open one (并单).

The intake is written to the read model under its Idempotency-Key before anything else happens:
for a new ticket that row allocates the number, and the workflow `ticket-<number>` is started
after it; for a repeat the row names the open ticket and the appeal is merged into it by an
update that counts the key once. If the API dies in between, the retry — or the reconciler the
worker runs every 30 s — finishes the job; nothing is lost and nothing happens twice."""

import asyncio
import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel import update as sql_update
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import ApiError
from api.workflow_calls import describe, is_closed, query_state, update
from catalog.policies import load_pack
from core.logging import get_logger
from core.settings import Settings
from core.temporal import workflow_id
from domain.deadlines.calendar import CHINA_TZ
from domain.errors import invalid
from domain.intake.merge import MergeAppeal, address_key
from domain.intake.triage import IntakeRecord, TriageOverride
from domain.privacy import phone_hash
from domain.ticket import Actor, Address, TicketInput, TicketRequest, TicketState
from domain.vocabulary import Role, Stage
from readmodel import db
from readmodel.db import aware
from readmodel.tables import IntakeRequestRow, MergeKeyRow, TicketRow, utcnow
from readmodel.tickets import OPEN_STAGES, find_open_repeat
from workflows import search_attributes as sa
from workflows.ticket import TicketWorkflow

log = get_logger("intake")


class IntakeAddress(Address):
    district: str = Field(default="", max_length=50, description="District id or name; may be left to the address text")
    street: str = Field(
        default="", max_length=50, description="Street office id or name; may be left to the address text"
    )


class IntakeBody(TicketRequest):
    """The intake form, plus the operator's triage decision when it differs from the suggestion.
    `category` and the address's district and street may be left out: intake suggests them from
    the description and the address text, and records what it suggested and what was chosen."""

    # Narrowed from the ticket's own fields: the form may leave these to the suggestion.
    category: str | None = Field(default=None, max_length=80, description="Left out: the suggested category")  # type: ignore[assignment]
    address: IntakeAddress
    triage_override: TriageOverride | None = None
    intake: IntakeRecord | None = Field(default=None, description="Set by the server: ignored when sent")


class TicketCreated(BaseModel):
    number: str
    workflow_id: str
    received_at: datetime
    started: bool  # False: recorded, the workflow starts as soon as Temporal is reachable
    merged: bool = False  # True: a repeat, joined to this open ticket instead of a new one


class NumberCollision(Exception):
    """A workflow with this ticket's id exists for another request: the read model was reset or
    two read models serve one Temporal namespace. Never merge two citizens' requests."""


def request_hash(body: IntakeBody) -> str:
    # What the server suggested is not part of the request: a retry under a newer model is the same request.
    canonical = json.dumps(body.model_dump(mode="json", exclude={"intake"}), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ticket_number(row_id: int, received_at: datetime) -> str:
    """Date of intake (Beijing time) and a sequence: 20261122000042."""
    return f"{received_at.astimezone(CHINA_TZ):%Y%m%d}{row_id:06d}"


def _by_key(session: Session, key: str) -> IntakeRequestRow | None:
    return session.exec(select(IntakeRequestRow).where(IntakeRequestRow.idempotency_key == key)).first()


def _recorded(session: Session, key: str) -> IntakeRequestRow:
    """The intake row of a key known to be recorded."""
    row = _by_key(session, key)
    if row is None:
        raise LookupError(f"no intake recorded under Idempotency-Key {key!r}")
    return row


def _request_of(body: IntakeBody) -> TicketRequest:
    return TicketRequest.model_validate(body.model_dump(exclude={"triage_override", "intake"}))


def _allocate(row: IntakeRequestRow, body: IntakeBody, received_by: str) -> TicketInput:
    """The ticket number from the row's id (flushed: the database gave it one)."""
    if row.id is None:
        raise ValueError("the intake row has no id yet: flush it first")
    row.number = ticket_number(row.id, row.created_at)
    row.merged_into = None
    inp = TicketInput(
        number=row.number,
        request=_request_of(body),
        received_at=row.created_at,
        received_by=received_by,
        triage_override=body.triage_override,
        intake=body.intake,
    )
    row.payload_json = inp.model_dump_json()
    return inp


class _Taken(Exception):
    """A simultaneous request claimed one of this request's merge keys first: look again."""


def _live(session: Session, holder: MergeKeyRow, since: datetime) -> bool:
    """The key's ticket may still take a repeat: claimed within the window, and open or not
    projected yet (recorded, starting, or in intake)."""
    if aware(holder.claimed_at) < since:
        return False
    ticket = session.get(TicketRow, holder.number)
    return ticket is None or ticket.stage == "intake" or ticket.stage in OPEN_STAGES


def _claim(session: Session, check: "RepeatCheck", number: str, now: datetime, separate: bool = False) -> None:
    """Claim this ticket's merge keys (in key order, so two claims never deadlock). A key whose
    holder is still live means a simultaneous repeat was recorded first (_Taken: look again);
    for a ticket kept `separate` (an operator's override, a repeat whose ticket closed) such a key
    stays with its holder, and later repeats join that one."""
    for key in sorted(check.keys):
        holder = session.get(MergeKeyRow, key)
        if holder is None:
            session.add(MergeKeyRow(key=key, number=number, claimed_at=now))
            session.flush()  # IntegrityError when a simultaneous claim won
            continue
        if holder.number == number:
            continue
        if _live(session, holder, check.since()):
            if separate:
                continue
            raise _Taken(key)
        taken = session.execute(  # compare and swap: nobody claimed it since we read it
            sql_update(MergeKeyRow)
            .where(col(MergeKeyRow.key) == key, col(MergeKeyRow.number) == holder.number)
            .values(number=number, claimed_at=now)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            raise _Taken(key)


def _reserve(
    session: Session,
    key: str,
    body: IntakeBody,
    received_by: str,
    repeat_of: Callable[[Session], str | None],
    digest: str | None = None,
) -> tuple[IntakeRequestRow, TicketInput | None, bool]:
    """The intake row for this key: new (a number, or the open ticket it repeats) or the one a
    previous try wrote. Returns (row, input to start or merge, created). `digest`: of the request
    as sent, when the server completed it (a suggested category must not make a retry differ).

    Simultaneous repeats: a new ticket claims its merge keys in the same transaction as its row;
    the database lets only one claim a key (the primary key), and the one that lost looks again,
    now finding the first ticket to join."""
    digest = digest or request_hash(body)
    check = repeat_of if isinstance(repeat_of, RepeatCheck) else None
    for _ in range(10):
        target = repeat_of(session) if body.triage_override is None else None  # an override means "this one"
        row = _by_key(session, key)
        if row is not None:
            break
        row = IntakeRequestRow(idempotency_key=key, request_hash=digest, created_at=utcnow())
        session.add(row)
        try:
            session.flush()
            if target:
                row.merged_into = target
                inp = TicketInput(
                    number=target,
                    request=_request_of(body),
                    received_at=row.created_at,
                    received_by=received_by,
                    intake=body.intake,
                )
                row.payload_json = inp.model_dump_json()
            else:
                inp = _allocate(row, body, received_by)
                if check is not None:
                    _claim(session, check, inp.number, row.created_at, separate=body.triage_override is not None)
            session.commit()
            return row, inp, True
        except IntegrityError:  # the same key, or a merge key, concurrently: the other request won
            session.rollback()
        except _Taken:
            session.rollback()
        row = None
    if row is None:
        raise ApiError(503, "too many simultaneous requests for the same citizen or place; retry", {"Retry-After": "1"})
    if row.request_hash != digest:
        raise invalid(f"Idempotency-Key {key!r} was already used for a different request")
    recorded = TicketInput.model_validate_json(row.payload_json) if row.payload_json else None
    return row, recorded, False


def _unmerge(
    session: Session, key: str, body: IntakeBody, received_by: str, check: "RepeatCheck | None" = None
) -> TicketInput:
    """The open ticket closed before the repeat could join it: the repeat becomes a ticket (and the
    next repeat joins this one)."""
    row = _recorded(session, key)
    inp = _allocate(row, body, received_by)
    session.add(row)
    if check is not None:
        _claim(session, check, inp.number, utcnow(), separate=True)
    session.commit()
    return inp


def _mark_started(session: Session, key: str) -> None:
    row = _recorded(session, key)
    if row.started_at is None:
        row.started_at = utcnow()
        row.payload_json = None  # the citizen's details now live in the workflow only
        session.add(row)
        session.commit()


async def start(client: Client, settings: Settings, inp: TicketInput, key: str) -> None:
    req = inp.request
    wid = workflow_id(inp.number)
    try:
        await client.start_workflow(
            TicketWorkflow.run,
            inp,
            id=wid,
            task_queue=settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            memo={"idempotency_key": key},
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.STATUS, "intake"),
                    SearchAttributePair(sa.CATEGORY, req.category),
                    SearchAttributePair(sa.DISTRICT, req.address.district),
                    SearchAttributePair(sa.URGENCY, req.urgency.value),
                    SearchAttributePair(sa.CHANNEL, req.channel.value),
                ]
            ),
        )
    except WorkflowAlreadyStartedError:
        # A retry after a start whose answer was lost: fine if it is this very request.
        memo = (await describe(client, wid)).workflow_execution_info.memo.fields
        started_for = memo.get("idempotency_key")
        if started_for is None or (await client.data_converter.decode([started_for]))[0] != key:
            raise NumberCollision(
                f"{wid} already belongs to another request; the read model at "
                f"{settings.database_url.split('@')[-1]} does not match this Temporal namespace"
            ) from None


# A repeat of a ticket still being started or triaged (a second call 40 ms after the first)
# waits this long for it to be dispatched before it is deferred to the reconciler.
MERGE_WAIT = 15.0


async def _still_coming(client: Client, number: str) -> bool:
    """The ticket a repeat names may still take it: its workflow is starting, in intake, or was
    dispatched a moment ago; not closed, nor transferred to an emergency service."""
    try:
        state = await query_state(client, number)
    except ApiError as e:
        return e.status == 404 and not await is_closed(client, workflow_id(number))
    return state.stage not in (Stage.closed, Stage.follow_up)


async def merge_into(client: Client, inp: TicketInput, key: str, wait: float = MERGE_WAIT) -> bool:
    """Join the repeat to its open ticket; False when that ticket closed meanwhile. A ticket that
    is still starting or in intake is waited for; ConnectionError: try later (deferred)."""
    req = inp.request
    appeal = MergeAppeal(
        actor=Actor(role=Role.intake, user=inp.received_by), key=key, channel=req.channel, citizen=req.citizen,
        description=req.description,
    )  # fmt: skip
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            await update(client, inp.number, TicketWorkflow.merge_appeal, appeal)
            return True
        except ApiError as e:
            if e.status == 503:  # no worker right now: deferred, the reconciler merges it later
                raise ConnectionError(e.reason) from e
            if e.status not in (404, 409):
                raise
            if not await _still_coming(client, inp.number):
                log.info("the open ticket cannot take the repeat", ticket=inp.number, answer=e.reason)
                return False
            if asyncio.get_running_loop().time() >= deadline:
                raise ConnectionError(f"ticket {inp.number} is not dispatched yet: the repeat joins it later") from e
        await asyncio.sleep(0.2)


class RepeatCheck:
    """What the reservation calls (on its session) to find the open ticket this request repeats,
    within the merge window of the pack new tickets get; and the merge keys a new ticket claims."""

    def __init__(self, settings: Settings, body: IntakeBody) -> None:
        self.settings = settings
        self.category = body.category or ""  # completed before intake: a suggestion when left out
        self.citizen_key = phone_hash(body.citizen.phone, settings.phone_hash_salt.get_secret_value())
        self.address_key = address_key(body.address.street, body.address.text)
        self.keys = merge_keys(self.category, self.citizen_key, self.address_key)

    def since(self) -> datetime:
        window = load_pack(self.settings.policy_pack, self.settings.policy_dir).merge.window
        return utcnow() - timedelta(seconds=window.seconds())

    def __call__(self, session: Session) -> str | None:
        since = self.since()
        # Claimed keys first: they name tickets recorded a moment ago and not projected yet.
        holders = [h for k in self.keys if (h := session.get(MergeKeyRow, k)) is not None and _live(session, h, since)]
        if holders:
            return max(holders, key=lambda h: aware(h.claimed_at)).number
        return find_open_repeat(session, self.category, self.citizen_key, self.address_key, since)


def merge_keys(category: str, citizen_key: str | None, place_key: str | None) -> list[str]:
    """The keys a repeat is recognized by: the same category and the same citizen, or the same place."""
    keys = [
        f"{category}|citizen|{citizen_key}" if citizen_key else None,
        f"{category}|place|{place_key}" if place_key else None,
    ]
    return [k[:320] for k in keys if k]


def repeat_finder(settings: Settings, body: IntakeBody) -> RepeatCheck:
    return RepeatCheck(settings, body)


async def take_in(
    client_getter: Callable[[], Awaitable[Client]],
    settings: Settings,
    session: Session,
    body: IntakeBody,
    idempotency_key: str | None,
    received_by: str,
    digest: str | None = None,
) -> tuple[TicketCreated, bool]:
    """Returns the ticket and whether this call created or merged it (False: an idempotent replay)."""
    key = idempotency_key or f"auto-{uuid.uuid4()}"
    check = repeat_finder(settings, body)
    row, inp, created = await db.in_thread(_reserve, session, key, body, received_by, check, digest)
    started = row.started_at is not None
    if not started and inp is not None:
        try:
            client = await client_getter()
            if row.merged_into and not await merge_into(client, inp, key):
                inp = await db.in_thread(_unmerge, session, key, body, received_by, check)
                row.number, row.merged_into = inp.number, None
            if not row.merged_into:
                await start(client, settings, inp, key)
            await db.in_thread(_mark_started, session, key)
            started = True
        except NumberCollision as e:
            log.error("ticket number collision", ticket=row.number, error=str(e))
            raise ApiError(503, str(e)) from e
        except ApiError as e:
            if e.status != 503:  # a refusal; 503: Temporal unreachable (even to connect), deferred below
                raise
            log.warning("intake deferred", ticket=row.number or row.merged_into, error=e.reason)
        except Exception as e:  # noqa: BLE001 — Temporal down: the reconciler finishes it; the caller may retry
            log.warning("intake deferred", ticket=row.number or row.merged_into, error=str(e))
    number = row.merged_into or row.number
    if number is None:  # _reserve gives every row a number or the open ticket it joins
        raise ValueError(f"intake {key!r} has neither a ticket number nor a ticket it joined")
    received_at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    if started:
        what = "repeat merged" if row.merged_into else "ticket taken in"
        log.info(what if created else "intake replayed", ticket=number, workflow_id=workflow_id(number))
    result = TicketCreated(
        number=number, workflow_id=workflow_id(number), received_at=received_at, started=started,
        merged=bool(row.merged_into),
    )  # fmt: skip
    return result, created


def _unfinished(session: Session, older_than: timedelta) -> list[tuple[str, TicketInput, bool]]:
    cutoff = utcnow() - older_than
    rows = session.exec(
        select(IntakeRequestRow)
        .where(col(IntakeRequestRow.started_at).is_(None))
        .where(col(IntakeRequestRow.created_at) < cutoff)
        .order_by(col(IntakeRequestRow.id))  # a ticket starts before the repeats that join it
    ).all()
    return [
        (r.idempotency_key, TicketInput.model_validate_json(r.payload_json), bool(r.merged_into))
        for r in rows
        if r.payload_json
    ]


async def reconcile(client: Client, settings: Settings, older_than: timedelta = timedelta(seconds=5)) -> int:
    """Finish every recorded intake whose workflow never started, or whose merge never reached the
    open ticket (the API died in between)."""
    done = 0
    with db.session(settings.database_url) as session:
        pending = await db.in_thread(_unfinished, session, older_than)
        for key, inp, merged in pending:
            if merged:
                try:
                    joined = await merge_into(client, inp, key, wait=0)
                except ConnectionError:  # its ticket is still starting: next round
                    continue
                if not joined:
                    body = IntakeBody.model_validate({**inp.request.model_dump(), "intake": inp.intake})
                    inp = await db.in_thread(
                        _unmerge, session, key, body, inp.received_by, repeat_finder(settings, body)
                    )
                    merged = False
            if not merged:
                await start(client, settings, inp, key)
            await db.in_thread(_mark_started, session, key)
            done += 1
            log.info("intake recovered", ticket=inp.number, workflow_id=workflow_id(inp.number))
    return done


RECONCILE_EVERY = timedelta(seconds=2)
RECONCILE_OLDER_THAN = timedelta(seconds=2)  # the API's own attempt at it is under way
RECONCILE_BACKOFF_MAX = timedelta(seconds=5)


async def reconcile_forever(
    client: Client,
    settings: Settings,
    every: timedelta = RECONCILE_EVERY,
    older_than: timedelta = RECONCILE_OLDER_THAN,
) -> None:
    """The reconciler's loop: the worker process runs it (one loop per worker, not per API
    replica); reconcile() is idempotent, so two workers finishing the same intake do it once.
    It looks every 2 s (an indexed query for unstarted rows), so a ticket taken in while Temporal
    was down starts within seconds of its return; while Temporal is away it backs off to 5 s."""
    pause = every.total_seconds()
    while True:
        try:
            await reconcile(client, settings, older_than)
            pause = every.total_seconds()
        except Exception as e:  # noqa: BLE001 — Temporal or the database not reachable yet: try again later
            log.warning("reconcile failed", error=str(e), retry_in=pause)
            pause = min(pause * 2, RECONCILE_BACKOFF_MAX.total_seconds())
        await asyncio.sleep(pause)


# -- a deferred intake, as reads and actions see it -----------------------------------------------

BEING_STARTED_RETRY_AFTER = "2"


def being_started(session: Session, number: str) -> TicketInput | None:
    """The recorded intake of a ticket whose workflow has not started yet (Temporal was down at
    the 202): the ledger row still holds its input until the start."""
    row = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.number == number)).first()
    if row is None or row.started_at is not None or not row.payload_json:
        return None
    return TicketInput.model_validate_json(row.payload_json)


def pending_state(inp: TicketInput) -> TicketState:
    """What GET /tickets/{number} shows of a ticket recorded but not started: stage intake, with a
    timeline line saying it is being started."""
    state = TicketState(
        number=inp.number, workflow_id=workflow_id(inp.number), request=inp.request, received_at=inp.received_at
    )
    state.record(inp.received_at, inp.received_by, "received", f"taken in through {inp.request.channel.value}")
    state.record(
        inp.received_at, "system", "being_started",
        "recorded; the ticket's workflow starts as soon as Temporal is reachable (usually within seconds)",
    )  # fmt: skip
    return state


def being_started_error(number: str) -> ApiError:
    return ApiError(
        503,
        f"ticket {number} is being started: it was recorded while Temporal was unreachable; retry shortly",
        {"Retry-After": BEING_STARTED_RETRY_AFTER},
    )
