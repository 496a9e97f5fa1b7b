"""Writing a ticket's masked state into the read model: the projector's local activity and the
projection check (which repairs a row that went ahead of its workflow) both write through here.

One transaction of SQL Core statements: the row is an `INSERT … ON CONFLICT DO UPDATE` with a WHERE
on the version, then the unit roles and returns that changed. Seven of these run per ticket
lifecycle, so they avoid the ORM's identity map, row loads and change tracking (an ORM load,
attribute copy and flush was most of its cost)."""

from collections.abc import Callable
from datetime import UTC
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from domain.contracts import Projection
from domain.intake.merge import address_key
from readmodel.tables import TicketReturnRow, TicketRow, TicketUnitRow, utcnow

# TicketFacts (TicketState.flat()) gives the row its columns, except these: the ticket's units are
# rows of TicketUnitRow (with their role), and `supervised` is one of the flags.
NOT_COLUMNS = {"units", "supervised"}
# The read model is SQLite (one machine) or PostgreSQL: both have the upsert, with a WHERE.
INSERT: dict[str, Callable[..., Any]] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}

TICKET = TicketRow.__table__  # type: ignore[attr-defined]
UNITS = TicketUnitRow.__table__  # type: ignore[attr-defined]
RETURNS = TicketReturnRow.__table__  # type: ignore[attr-defined]


def row_values(projection: Projection) -> dict[str, Any]:
    s = projection.state
    facts = s.flat()
    values = {
        name: value.value if isinstance(value, Enum) else value
        for name, value in facts.model_dump(exclude=NOT_COLUMNS).items()
    }
    values.update(
        flags=" ".join(facts.flags),
        # In UTC: working-day deadlines are computed in China time, and SQLite keeps no zone.
        deadline=facts.deadline.astimezone(UTC) if facts.deadline else None,
        # What only the row keeps: how to find the workflow, the keys repeats are merged on,
        # the version that orders projections, and the masked state itself.
        workflow_id=s.workflow_id,
        citizen_key=projection.citizen_key,
        address_key=address_key(s.street_unit, s.request.address.text),
        updated_at=utcnow(),
        version=s.version,
        state_json=s.model_dump_json(),
    )
    return values


@lru_cache(maxsize=8)
def _upsert(dialect: str, columns: tuple[str, ...], repairing: bool):
    """The row's upsert, built once per dialect and column set: building it (the `excluded`
    columns above all) was 8 % of the worker's CPU when it was built for every projection."""
    insert = INSERT[dialect](TICKET)
    guard = TICKET.c.version == bindparam("replacing") if repairing else TICKET.c.version <= insert.excluded.version
    return insert.on_conflict_do_update(
        index_elements=[TICKET.c.number],
        set_={k: insert.excluded[k] for k in columns if k != "number"},
        where=guard,
    ).returning(TICKET.c.version)


def write_ticket(conn: Connection, projection: Projection, replacing: int | None = None) -> bool:
    """Write the ticket's row, its unit roles and its returns; False when nothing was written.

    The projector's write (`replacing` None) applies when its version is not older than the stored
    one: a retried or late attempt of an older version changes nothing, and a version written by a
    workflow task that never completed is overwritten when the workflow reaches that version again.
    The check's repair (`replacing` the version it found stored) applies only over that version, so
    a projection that landed meanwhile is not undone."""
    s = projection.state
    values = row_values(projection)
    upsert = _upsert(conn.dialect.name, tuple(values), repairing=replacing is not None)
    params = values if replacing is None else values | {"replacing": replacing}
    # No row back: the WHERE kept the stored row (rowcount is not portable for this).
    if conn.execute(upsert, params).first() is None:
        return False

    roles = {
        (s.lead_unit, "lead"),
        (s.supervisor_unit, "supervisor"),
        (s.coordinator_unit, "coordinator"),
    }
    roles |= {(u, "cooperating") for u in s.cooperating}
    wanted = {(u, r) for u, r in roles if u}
    mine = UNITS.c.number == s.number
    existing = {(u, r) for u, r in conn.execute(select(UNITS.c.unit, UNITS.c.role).where(mine))}
    for unit, role in existing - wanted:
        conn.execute(delete(UNITS).where(mine, UNITS.c.unit == unit, UNITS.c.role == role))
    if added := wanted - existing:
        conn.execute(UNITS.insert(), [{"number": s.number, "unit": u, "role": r} for u, r in sorted(added)])

    ours = RETURNS.c.ticket == s.number
    if replacing is not None:  # returns the repaired row recorded but its workflow never did
        conn.execute(delete(RETURNS).where(and_(ours, RETURNS.c.seq >= len(s.returns))))
    if s.returns:
        rows = conn.execute(select(RETURNS.c.seq, RETURNS.c.status).where(ours))
        known: dict[int, str] = {seq: status for seq, status in rows}
        for seq, ret in enumerate(s.returns):
            if seq not in known:
                conn.execute(RETURNS.insert().values(
                    ticket=s.number, seq=seq, unit=ret.unit, status=ret.status, reason=ret.reason[:1000], at=ret.at,
                ))  # fmt: skip
            elif known[seq] != ret.status:
                conn.execute(update(RETURNS).where(and_(ours, RETURNS.c.seq == seq)).values(status=ret.status))
    return True
