"""Project a ticket's masked live state into the read model (a local activity)."""

from datetime import UTC
from enum import Enum

from sqlmodel import col, select, update
from temporalio import activity

from core.settings import Settings
from domain.contracts import Projection
from domain.intake.merge import address_key
from readmodel import db
from readmodel.tables import TicketReturnRow, TicketRow, TicketUnitRow, utcnow

# TicketFacts (TicketState.flat()) gives the row its columns, except these: the ticket's units are
# rows of TicketUnitRow (with their role), and `supervised` is one of the flags.
NOT_COLUMNS = {"units", "supervised"}


class ProjectionActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn
    def project_ticket(self, projection: Projection) -> None:
        s = projection.state
        with db.session(self.settings.database_url) as session:
            # Lock the row before reading its version, so the check and the write are one step: an
            # attempt that outlived its timeout (a thread waiting on a busy database) can still be
            # running when its retry and the next projection have written, and must not overwrite
            # them. The no-op UPDATE takes SQLite's write lock (pysqlite begins the transaction
            # before a write, not before a read) and PostgreSQL's row lock.
            session.execute(
                update(TicketRow).where(col(TicketRow.number) == s.number).values(version=TicketRow.version)
            )
            row = session.get(TicketRow, s.number, populate_existing=True)
            if row is not None and row.version >= s.version:
                return  # a retry of an older projection: the newer one is already there
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
            if row is None:
                row = TicketRow(**values)
            else:
                for k, v in values.items():
                    setattr(row, k, v)
            session.add(row)
            roles = {
                (s.lead_unit, "lead"),
                (s.supervisor_unit, "supervisor"),
                (s.coordinator_unit, "coordinator"),
            }
            roles |= {(u, "cooperating") for u in s.cooperating}
            wanted = {(u, r) for u, r in roles if u}
            existing = {
                (r.unit, r.role): r for r in session.exec(select(TicketUnitRow).where(TicketUnitRow.number == s.number))
            }
            for key, r in existing.items():
                if key not in wanted:
                    session.delete(r)
            for unit, role in wanted - existing.keys():
                session.add(TicketUnitRow(number=s.number, unit=unit, role=role))
            for seq, ret in enumerate(s.returns):
                row_ret = session.get(TicketReturnRow, (s.number, seq)) or TicketReturnRow(
                    ticket=s.number, seq=seq, unit=ret.unit, status=ret.status, reason=ret.reason[:1000], at=ret.at
                )
                row_ret.status = ret.status
                session.add(row_ret)
            session.commit()
