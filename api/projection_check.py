"""The projection check: a read-model row that went ahead of its ticket's workflow, repaired.

The projector writes the read model from a local activity, inside the workflow task that made the
change. When that task never completes (the worker or Temporal killed in between), the change never
reaches the history (an update not yet accepted is lost, and its caller was told to retry), but the
row already shows it: a ticket "closed" whose workflow still waits for the citizen's callback, which
nobody then answers, because every list says it is closed. So each row is looked at again once it
has settled (some seconds after it was written) and compared with the workflow; a row that differs
from the workflow's state is rewritten from it. A row costs a describe (Temporal alone); only one
that differs from the workflow's search attributes costs a query (the worker) as well."""

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionResponse
from temporalio.client import Client
from temporalio.converter import default as default_converter
from temporalio.service import RPCError

from api.errors import ApiError
from api.workflow_calls import describe, query_state, rpc_error
from core.logging import get_logger
from core.settings import Settings
from domain.contracts import Projection
from domain.ticket import TicketState
from domain.vocabulary import Stage
from readmodel import db
from readmodel.db import aware
from readmodel.projection import TICKET, write_ticket
from readmodel.tables import utcnow
from workflows import search_attributes as sa

log = get_logger("projection_check")

# A workflow task completes well within this (its start-to-close timeout is 10 s): a row older than
# it that still differs from its workflow was written by a task that never completed.
SETTLE = timedelta(seconds=15)
CHECK_EVERY = timedelta(seconds=5)
# At the worker's start: the rows a worker killed before it may have written ahead (and not checked;
# every worker checks every row, so with two or more this is only the one that restarted).
LOOK_BACK = timedelta(minutes=3)
BATCH = 500
# The row's columns the check reads (Written's fields but the time), and those of them that are
# search attributes too, by attribute name.
COLUMNS = ["number", "workflow_id", "stage", "lead_unit", "overdue", "warned", "version", "citizen_key"]
FACTS = {"stage": sa.STATUS.name, "lead_unit": sa.LEAD_UNIT.name, "overdue": sa.OVERDUE.name, "warned": sa.WARNED.name}
PAYLOADS = default_converter().payload_converter
AT_ONCE = 8  # queries in flight: the check must not crowd out the tickets' own workflow tasks


@dataclass(frozen=True)
class Written:
    """A read-model row as the check compares it."""

    number: str
    workflow_id: str
    stage: str
    lead_unit: str | None
    overdue: bool
    warned: bool
    version: int
    citizen_key: str | None
    updated_at: datetime


def _row_query() -> Select:
    return select(*(TICKET.c[name] for name in COLUMNS), TICKET.c.updated_at)


def _written(row) -> Written:
    return Written(**{**row._mapping, "updated_at": aware(row.updated_at)})


def written_between(url: str, after: datetime, upto: datetime, limit: int = BATCH) -> list[Written]:
    """The rows last written in (after, upto], oldest first (an index on updated_at)."""
    query = (
        _row_query()
        .where(TICKET.c.updated_at > after, TICKET.c.updated_at <= upto)
        .order_by(TICKET.c.updated_at)
        .limit(limit)
    )
    with db.get_engine(url).connect() as conn:
        return [_written(row) for row in conn.execute(query)]


def _durable_facts(described: DescribeWorkflowExecutionResponse) -> dict[str, object]:
    """The ticket's search attributes as Temporal holds them: set by the workflow's commands, so
    only by workflow tasks that completed (never ahead of the history)."""
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    return {name: PAYLOADS.from_payload(fields[name]) if name in fields else None for name in FACTS.values()}


async def durable_state(client: Client, row: Written) -> TicketState | None:
    """The workflow's state when the row differs from it; None when the row is right.

    A describe first (Temporal alone, no worker): a closed ticket whose workflow ended is right (it
    ends only once its closing projection is written); an open one is right when the stage, lead
    unit and clock flags agree with the search attributes. Only a row that differs from those is
    queried (the worker answers from the history), so a wave of changes (a calendar applied to
    every open ticket, ten thousand warnings in a minute) costs Temporal a read per row, and the
    worker nothing."""
    try:
        described = await describe(client, row.workflow_id)
    except RPCError as e:  # in the API's terms, as for the query: 404 no workflow, 503 try later
        raise rpc_error(row.number, e) from e
    running = described.workflow_execution_info.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
    if not running and row.stage == Stage.closed.value:
        return None
    if running and _durable_facts(described) == {name: getattr(row, column) for column, name in FACTS.items()}:
        return None
    state = await query_state(client, row.number)
    return None if (state.version, state.stage.value) == (row.version, row.stage) else state


def written(url: str, number: str) -> Written | None:
    """One ticket's row."""
    query = _row_query().where(TICKET.c.number == number)
    with db.get_engine(url).connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else _written(row)


async def recheck(client: Client, settings: Settings, number: str) -> bool:
    """Compare one ticket's row with its workflow now (a run just reset), and rewrite it if they
    differ. False when there is no row or it agrees."""
    row = await asyncio.to_thread(written, settings.database_url, number)
    if row is None or (state := await durable_state(client, row)) is None:
        return False
    return await asyncio.to_thread(repair, settings.database_url, row, state)


def repair(url: str, row: Written, state: TicketState) -> bool:
    """Rewrite the row from the workflow's state, unless a projection changed it meanwhile."""
    projection = Projection(state=state.masked(), citizen_key=row.citizen_key)
    with db.get_engine(url).begin() as conn:
        return write_ticket(conn, projection, replacing=row.version)


async def check(client: Client, settings: Settings, after: datetime, upto: datetime) -> tuple[datetime, int]:
    """Check the rows written in (after, upto]. Returns how far the check got (the next `after`:
    just before the first row it could not check, with Temporal or the worker away) and how many
    rows it repaired."""
    url = settings.database_url
    rows = await asyncio.to_thread(written_between, url, after, upto)
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(row: Written) -> bool | None:
        async with gate:
            try:
                state = await durable_state(client, row)
            except ApiError as e:
                if e.status == 404:
                    return False  # no workflow behind the row (a wiped dev server): nothing to compare
                return None  # Temporal or the worker away: this row again next time
            if state is None:
                return False
        repaired = await asyncio.to_thread(repair, url, row, state)
        if repaired:
            log.warning(
                "read model differed from the workflow: row rewritten", ticket=row.number, workflow_id=row.workflow_id,
                stored_stage=row.stage, stored_version=row.version, stage=state.stage.value, version=state.version,
            )  # fmt: skip
        return repaired

    results = await asyncio.gather(*(one(row) for row in rows))
    unchecked = [row.updated_at for row, result in zip(rows, results, strict=True) if result is None]
    if unchecked:
        reached = min(unchecked) - timedelta(microseconds=1)
    elif len(rows) == BATCH:
        reached = rows[-1].updated_at  # more to read from there
    else:
        reached = upto
    return max(reached, after), sum(1 for r in results if r)


async def check_forever(client: Client, settings: Settings, every: timedelta = CHECK_EVERY) -> None:
    """The check's loop, beside the worker (one per worker: a repair only writes over the version
    it found, so two workers repairing the same row write it once)."""
    after = utcnow() - LOOK_BACK
    while True:
        try:
            after, _ = await check(client, settings, after, utcnow() - SETTLE)
        except Exception as e:  # noqa: BLE001 — the database away: look again later
            log.warning("projection check failed", error=str(e))
        await asyncio.sleep(every.total_seconds())
