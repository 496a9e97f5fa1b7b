"""assessment drill-downs page from the unit indexes: (unit, received_at, number) keys, every column a drill-down filters on included

A drill-down lists tickets ordered by (received_at, number). With `number` in the key each unit
index returns them in that order, so a page reads its rows and stops; with every metric's column
included, PostgreSQL finds and counts them from the index alone (no table rows until the page's).

Revision ID: 0009_assess_drilldown
Revises: 0008_faults_merge_keys
Create Date: 2026-12-01 11:30:00
"""

from alembic import op

revision = "0009_assess_drilldown"
down_revision = "0008_faults_merge_keys"
branch_labels = None
depends_on = None

# What a drill-down filters on (readmodel.tables.ASSESSED at this revision).
ASSESSED = [
    "lead_unit",
    "contacted_on_time",
    "acknowledged_on_time",
    "resolved",
    "satisfaction",
    "completed_on_time",
    "overdue",
    "urge_count",
    "repeat_count",
    "rehandle_round",
    "kind",
]
# The same indexes before: (unit, received_at), number among the included columns.
ASSESSED_BEFORE = [
    "number",
    "lead_unit",
    "contacted_on_time",
    "acknowledged_on_time",
    "resolved",
    "satisfaction",
    "completed_on_time",
    "overdue",
]
UNIT_INDEXES = {
    "ix_ticket_street_received": ("street", []),
    "ix_ticket_district_received": ("district", []),
    "ix_ticket_lead_received": ("lead_unit", ["supervisor_unit"]),
    "ix_ticket_supervisor_received": ("supervisor_unit", []),
}


def upgrade() -> None:
    for name, (unit, extra) in UNIT_INDEXES.items():
        op.drop_index(name, table_name="ticket")
        include = [c for c in [*ASSESSED, *extra] if c != unit]
        op.create_index(name, "ticket", [unit, "received_at", "number"], postgresql_include=include)


def downgrade() -> None:
    for name, (unit, extra) in UNIT_INDEXES.items():
        op.drop_index(name, table_name="ticket")
        op.create_index(name, "ticket", [unit, "received_at"], postgresql_include=[*ASSESSED_BEFORE, *extra])
