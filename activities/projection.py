"""Project a ticket's masked live state into the read model (a local activity).

One transaction of SQL Core statements: the row is an `INSERT … ON CONFLICT DO UPDATE` that applies
only when its version is newer (a retried or late projection changes nothing), then the unit roles
and returns that changed. Seven of these run per ticket lifecycle, so they avoid the ORM's identity
map, row loads and change tracking (an ORM load, attribute copy and flush was most of its cost)."""

from collections.abc import Callable
from datetime import UTC
from enum import Enum
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from temporalio import activity

from core.settings import Settings
from domain.contracts import Projection
from domain.intake.merge import address_key
from readmodel import db
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


class ProjectionActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn
    def project_ticket(self, projection: Projection) -> None:
        s = projection.state
        values = row_values(projection)
        with db.get_engine(self.settings.database_url).begin() as conn:
            insert = INSERT[conn.dialect.name](TICKET).values(values)
            upsert = insert.on_conflict_do_update(
                index_elements=[TICKET.c.number],
                set_={k: insert.excluded[k] for k in values if k != "number"},
                where=TICKET.c.version < insert.excluded.version,
            ).returning(TICKET.c.version)
            # No row back: the WHERE kept the stored row (rowcount is not portable for this).
            if conn.execute(upsert).first() is None:
                return  # a retry of an older projection: the newer one is already there

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

            if s.returns:
                ours = RETURNS.c.ticket == s.number
                rows = conn.execute(select(RETURNS.c.seq, RETURNS.c.status).where(ours))
                known: dict[int, str] = {seq: status for seq, status in rows}
                for seq, ret in enumerate(s.returns):
                    if seq not in known:
                        conn.execute(RETURNS.insert().values(
                            ticket=s.number, seq=seq, unit=ret.unit, status=ret.status, reason=ret.reason[:1000],
                            at=ret.at,
                        ))  # fmt: skip
                    elif known[seq] != ret.status:
                        conn.execute(update(RETURNS).where(and_(ours, RETURNS.c.seq == seq)).values(status=ret.status))
