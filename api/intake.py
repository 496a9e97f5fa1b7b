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
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import ApiError
from api.workflow_calls import describe, update
from catalog.policies import load_pack
from core.logging import get_logger
from core.settings import Settings
from core.temporal import workflow_id
from domain.deadlines.calendar import CHINA_TZ
from domain.errors import invalid
from domain.intake.merge import MergeAppeal, address_key
from domain.intake.triage import IntakeRecord, TriageOverride
from domain.privacy import phone_hash
from domain.ticket import Actor, Address, TicketInput, TicketRequest
from domain.vocabulary import Role
from readmodel import db
from readmodel.tables import IntakeRequestRow, utcnow
from readmodel.tickets import find_open_repeat
from workflows import search_attributes as sa
from workflows.ticket import TicketWorkflow

log = get_logger("intake")


class IntakeAddress(Address):
    district: str = Field(default="", max_length=50, description="District id or name; may be left to the address text")
    street: str = Field(default="", max_length=50, description="Street office id or name; may be left to the address text")


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
    as sent, when the server completed it (a suggested category must not make a retry differ)."""
    digest = digest or request_hash(body)
    target = repeat_of(session) if body.triage_override is None else None  # an override means "this one"
    row = _by_key(session, key)
    if row is None:
        row = IntakeRequestRow(idempotency_key=key, request_hash=digest, created_at=utcnow())
        session.add(row)
        try:
            session.flush()
            if target:
                row.merged_into = target
                inp = TicketInput(
                    number=target, request=_request_of(body), received_at=row.created_at, received_by=received_by,
                    intake=body.intake,
                )
                row.payload_json = inp.model_dump_json()
            else:
                inp = _allocate(row, body, received_by)
            session.commit()
            return row, inp, True
        except IntegrityError:  # the same key, concurrently: the other request won
            session.rollback()
            row = _recorded(session, key)
    if row.request_hash != digest:
        raise invalid(f"Idempotency-Key {key!r} was already used for a different request")
    recorded = TicketInput.model_validate_json(row.payload_json) if row.payload_json else None
    return row, recorded, False


def _unmerge(session: Session, key: str, body: IntakeBody, received_by: str) -> TicketInput:
    """The open ticket closed before the repeat could join it: the repeat becomes a ticket."""
    row = _recorded(session, key)
    inp = _allocate(row, body, received_by)
    session.add(row)
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


async def merge_into(client: Client, inp: TicketInput, key: str) -> bool:
    """Join the repeat to its open ticket; False when that ticket closed meanwhile."""
    req = inp.request
    appeal = MergeAppeal(
        actor=Actor(role=Role.intake, user=inp.received_by), key=key, channel=req.channel, citizen=req.citizen,
        description=req.description,
    )  # fmt: skip
    try:
        await update(client, inp.number, TicketWorkflow.merge_appeal, appeal)
        return True
    except ApiError as e:
        if e.status in (404, 409):
            return False
        if e.status == 503:  # no worker right now: deferred, the reconciler merges it later
            raise ConnectionError(e.reason) from e
        raise


def repeat_finder(settings: Settings, body: IntakeBody) -> Callable[[Session], str | None]:
    """A function the reservation calls (on its session) to find the open ticket this request
    repeats, within the merge window of the pack new tickets get."""

    def find(session: Session) -> str | None:
        window = load_pack(settings.policy_pack, settings.policy_dir).merge.window
        since = utcnow() - timedelta(seconds=window.seconds())
        return find_open_repeat(
            session, body.category or "", phone_hash(body.citizen.phone, settings.phone_hash_salt.get_secret_value()),
            address_key(body.address.street, body.address.text), since,
        )  # fmt: skip

    return find


async def take_in(
    client_getter: Callable[[], Awaitable[Client]], settings: Settings, session: Session, body: IntakeBody,
    idempotency_key: str | None, received_by: str, digest: str | None = None,
) -> tuple[TicketCreated, bool]:
    """Returns the ticket and whether this call created or merged it (False: an idempotent replay)."""
    key = idempotency_key or f"auto-{uuid.uuid4()}"
    row, inp, created = await db.in_thread(
        _reserve, session, key, body, received_by, repeat_finder(settings, body), digest
    )
    started = row.started_at is not None
    if not started and inp is not None:
        try:
            client = await client_getter()
            if row.merged_into and not await merge_into(client, inp, key):
                inp = await db.in_thread(_unmerge, session, key, body, received_by)
                row.number, row.merged_into = inp.number, None
            if not row.merged_into:
                await start(client, settings, inp, key)
            await db.in_thread(_mark_started, session, key)
            started = True
        except NumberCollision as e:
            log.error("ticket number collision", ticket=row.number, error=str(e))
            raise ApiError(503, str(e)) from e
        except ApiError:
            raise
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
    ).all()
    return [
        (r.idempotency_key, TicketInput.model_validate_json(r.payload_json), bool(r.merged_into))
        for r in rows
        if r.payload_json
    ]


async def reconcile(client: Client, settings: Settings, older_than: timedelta = timedelta(seconds=5)) -> int:
    """Finish every recorded intake whose workflow never started, or whose merge never reached the
    open ticket (the API died in between)."""
    with db.session(settings.database_url) as session:
        pending = await db.in_thread(_unfinished, session, older_than)
        for key, inp, merged in pending:
            if merged and not await merge_into(client, inp, key):
                body = IntakeBody.model_validate({**inp.request.model_dump(), "intake": inp.intake})
                inp = await db.in_thread(_unmerge, session, key, body, inp.received_by)
                merged = False
            if not merged:
                await start(client, settings, inp, key)
            await db.in_thread(_mark_started, session, key)
            log.info("intake recovered", ticket=inp.number, workflow_id=workflow_id(inp.number))
    return len(pending)


async def reconcile_forever(
    client: Client, settings: Settings, every: timedelta = timedelta(seconds=30),
    older_than: timedelta = timedelta(seconds=5),
) -> None:
    """The reconciler's loop: the worker process runs it (one loop per worker, not per API
    replica); reconcile() is idempotent, so two workers finishing the same intake do it once."""
    while True:
        try:
            await reconcile(client, settings, older_than)
        except Exception as e:  # noqa: BLE001 — Temporal or the database not reachable yet: try again later
            log.warning("reconcile failed", error=str(e))
        await asyncio.sleep(every.total_seconds())
