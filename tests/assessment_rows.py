"""Read-model rows for the assessment tests: tickets as the projection leaves them."""

import itertools
from datetime import datetime, timedelta

from readmodel import db
from readmodel.tables import TicketRow

_n = itertools.count(1)


def ticket_row(received_at: datetime, **overrides) -> TicketRow:
    n = next(_n)
    values = dict(
        number=f"A{received_at:%y%m%d%H%M}{n:06d}",
        workflow_id="",
        stage="closed",
        tier="street",
        lead_unit="qd.shinan.badaxia",
        supervisor_unit="qd.dept.urban",
        category="urban.street_vendor",
        district="qd.shinan",
        street="qd.shinan.badaxia",
        urgency="normal",
        kind="complaint",
        channel="phone",
        received_at=received_at,
        closed_at=received_at + timedelta(days=2),
        first_responsible_unit=None,
        contacted_on_time=True,
        acknowledged_on_time=True,
        completed_on_time=True,
        resolved=True,
        satisfaction="satisfied",
        intake_path="dispatch",
        state_json="{}",
    )
    values["first_responsible_unit"] = overrides.get("lead_unit", values["lead_unit"])
    values.update(overrides)
    return TicketRow(**values)


def add(url: str, rows: list[TicketRow]) -> list[str]:
    with db.session(url) as session:
        session.add_all(rows)
        session.commit()
    return [r.number for r in rows]
