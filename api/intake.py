"""Taking a ticket in exactly once.

The intake request is written to the read model under its Idempotency-Key (which also allocates
the ticket number) before the workflow starts; the workflow id is `ticket-<number>`, started
with "use existing" so a retry never makes a second workflow. If the API dies between the two,
the retry — or the reconciler at the next start — finishes the job."""

import asyncio
import hashlib
import json
import uuid
from datetime import datetime, timedelta, timezone

from anyio import to_thread
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from api.errors import ApiError
from core.logging import get_logger
from core.settings import Settings
from core.temporal import workflow_id
from domain.calendar import CHINA_TZ
from domain.errors import invalid
from domain.ticket import TicketInput, TicketRequest
from readmodel import db
from readmodel.tables import IntakeRequestRow, utcnow
from workflows import search_attributes as sa
from workflows.ticket import TicketWorkflow

log = get_logger("intake")


class TicketCreated(BaseModel):
    number: str
    workflow_id: str
    received_at: datetime
    started: bool  # False: recorded, the workflow starts as soon as Temporal is reachable


def request_hash(request: TicketRequest) -> str:
    canonical = json.dumps(request.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ticket_number(row_id: int, received_at: datetime) -> str:
    """Date of intake (Beijing time) and a sequence: 20261122000042."""
    return f"{received_at.astimezone(CHINA_TZ):%Y%m%d}{row_id:06d}"


def _reserve(url: str, key: str, request: TicketRequest, received_by: str) -> tuple[IntakeRequestRow, TicketInput, bool]:
    digest = request_hash(request)
    with db.session(url) as session:
        row = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.idempotency_key == key)).first()
        if row is None:
            received_at = utcnow()
            row = IntakeRequestRow(idempotency_key=key, request_hash=digest, created_at=received_at)
            session.add(row)
            try:
                session.flush()
                row.number = ticket_number(row.id, received_at)
                inp = TicketInput(number=row.number, request=request, received_at=received_at, received_by=received_by)
                row.payload_json = inp.model_dump_json()
                session.commit()
                return row, inp, True
            except IntegrityError:  # the same key, concurrently: the other request won
                session.rollback()
                row = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.idempotency_key == key)).one()
        if row.request_hash != digest:
            raise invalid(f"Idempotency-Key {key!r} was already used for a different request")
        inp = TicketInput.model_validate_json(row.payload_json) if row.payload_json else None
        return row, inp, False


def _mark_started(url: str, key: str) -> None:
    with db.session(url) as session:
        row = session.exec(select(IntakeRequestRow).where(IntakeRequestRow.idempotency_key == key)).one()
        if row.started_at is None:
            row.started_at = utcnow()
            row.payload_json = None  # the citizen's details now live in the workflow only
            session.add(row)
            session.commit()


class NumberCollision(Exception):
    """A workflow with this ticket's id exists for another request: the read model was reset or
    two read models serve one Temporal namespace. Never merge two citizens' requests."""


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
        memo = await (await client.get_workflow_handle(wid).describe()).memo()
        if memo.get("idempotency_key") != key:
            raise NumberCollision(
                f"{wid} already belongs to another request; the read model at "
                f"{settings.database_url.split('@')[-1]} does not match this Temporal namespace"
            ) from None


async def take_in(
    client_getter, settings: Settings, request: TicketRequest, idempotency_key: str | None, received_by: str
) -> tuple[TicketCreated, bool]:
    """Returns the ticket and whether this call created it (False: an idempotent replay)."""
    key = idempotency_key or f"auto-{uuid.uuid4()}"
    row, inp, created = await to_thread.run_sync(_reserve, settings.database_url, key, request, received_by)
    started = row.started_at is not None
    if not started and inp is not None:
        try:
            client = await client_getter()
            await start(client, settings, inp, key)
            await to_thread.run_sync(_mark_started, settings.database_url, key)
            started = True
        except NumberCollision as e:
            log.error("ticket number collision", ticket=row.number, error=str(e))
            raise ApiError(503, str(e)) from e
        except Exception as e:  # Temporal down: the reconciler starts it; the caller may retry
            log.warning("workflow start deferred", ticket=row.number, error=str(e))
    received_at = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
    assert row.number is not None
    if started:
        log.info("ticket taken in" if created else "ticket intake replayed", ticket=row.number, workflow_id=workflow_id(row.number))
    return TicketCreated(number=row.number, workflow_id=workflow_id(row.number), received_at=received_at, started=started), created


def _unstarted(url: str, older_than: timedelta) -> list[tuple[str, TicketInput]]:
    cutoff = utcnow() - older_than
    with db.session(url) as session:
        rows = session.exec(
            select(IntakeRequestRow).where(IntakeRequestRow.started_at.is_(None)).where(IntakeRequestRow.created_at < cutoff)
        ).all()
        return [(r.idempotency_key, TicketInput.model_validate_json(r.payload_json)) for r in rows if r.payload_json]


async def reconcile(client: Client, settings: Settings, older_than: timedelta = timedelta(seconds=5)) -> int:
    """Start every recorded ticket whose workflow never started (the API died in between)."""
    pending = await to_thread.run_sync(_unstarted, settings.database_url, older_than)
    for key, inp in pending:
        await start(client, settings, inp, key)
        await to_thread.run_sync(_mark_started, settings.database_url, key)
        log.info("ticket start recovered", ticket=inp.number, workflow_id=workflow_id(inp.number))
    return len(pending)


async def reconcile_forever(connection, settings: Settings, every: timedelta = timedelta(seconds=30)) -> None:
    while True:
        try:
            await reconcile(await connection.get(), settings)
        except Exception as e:  # Temporal or the database not reachable yet: try again later
            log.warning("reconcile failed", error=str(e))
        await asyncio.sleep(every.total_seconds())
