"""Project a ticket's masked live state into the read model (a local activity)."""

from sqlmodel import select
from temporalio import activity

from core.settings import Settings
from domain.contracts import Projection
from domain.intake.merge import address_key
from domain.policy import ClockName
from readmodel import db
from readmodel.tables import TicketReturnRow, TicketRow, TicketUnitRow, utcnow


# What the assessment reads of a ticket (TicketFacts declares them once).
ASSESSMENT_FACTS = {
    "first_responsible_unit", "community", "acknowledged_at", "completed_at",
    "acknowledged_on_time", "contacted_on_time", "completed_on_time",
}  # fmt: skip


class ProjectionActivities:
    def __init__(self, settings: Settings):
        self.settings = settings

    @activity.defn
    def project_ticket(self, projection: Projection) -> None:
        s = projection.state
        with db.session(self.settings.database_url) as session:
            row = session.get(TicketRow, s.number)
            if row is not None and row.version >= s.version:
                return  # a retry of an older projection: the newer one is already there
            deadline_clock = s.clocks.get(ClockName.completion)
            values = dict(
                workflow_id=s.workflow_id,
                stage=s.stage.value,
                tier=s.tier.value,
                lead_unit=s.lead_unit,
                supervisor_unit=s.supervisor_unit,
                coordinator_unit=s.coordinator_unit,
                category=s.request.category,
                district=s.district_unit,
                street=s.street_unit,
                urgency=s.request.urgency.value,
                kind=s.request.kind.value,
                channel=s.request.channel.value,
                enterprise=s.request.enterprise,
                deadline=s.deadline,
                deadline_estimated=bool(deadline_clock and deadline_clock.estimated),
                overdue=s.overdue,
                warned=s.warned,
                urge_count=len(s.urges),
                extension_count=sum(1 for e in s.extensions if e.decision == "approved"),
                flags=" ".join(s.flags),
                policy_pack=s.policy.name if s.policy else None,
                policy_version=s.policy.version if s.policy else None,
                citizen_key=projection.citizen_key,
                address_key=address_key(s.street_unit, s.request.address.text),
                outcome=s.outcome.value if s.outcome else None,
                rehandle_round=s.rehandle_round,
                intake_path=s.triage.path.value if s.triage else None,
                repeat_count=len(s.appeals),
                callback_attempt=s.callback_attempts,
                resolved=last.resolved if (last := next((c for c in reversed(s.callbacks) if c.reached), None)) else None,
                satisfaction=s.assessed_satisfaction or (last.satisfaction.value if last else None),
                received_at=s.received_at,
                closed_at=s.closed_at,
                **s.flat().model_dump(include=ASSESSMENT_FACTS),
                updated_at=utcnow(),
                version=s.version,
                state_json=s.model_dump_json(),
            )
            if row is None:
                row = TicketRow(number=s.number, **values)
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
