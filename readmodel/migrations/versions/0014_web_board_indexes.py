"""workbench boards: extension_pending on the ticket, the open tickets' board counted from one
covering index, closed tickets found by closing time and outcome

Revision ID: 0009_web_board_indexes
Revises: 0009_assess_drilldown
Create Date: 2026-12-01 11:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_web_board_indexes"
down_revision = "0009_assess_drilldown"
branch_labels = None
depends_on = None

# What the supervisors' overview groups by and the center's queues count (web/routes.py): with
# every one of them in the index, both are answered from the index alone, without the rows.
BOARD = [
    "stage",
    "tier",
    "urgency",
    "district",
    "street",
    "overdue",
    "warned",
    "extension_pending",
    "flags",
    "deadline",
    "number",
]


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extension_pending", sa.Boolean(), nullable=False, server_default=sa.false()))
    # Tickets already waiting for an extension decision: the only "decision" of a state left null.
    ticket = sa.table("ticket", sa.column("extension_pending"), sa.column("stage"), sa.column("state_json"))
    op.execute(
        ticket.update()
        .where(ticket.c.stage != "closed", ticket.c.state_json.contains('"decision":null'))
        .values(extension_pending=True)
    )
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index("ix_ticket_board", BOARD, unique=False)
        batch_op.create_index("ix_ticket_closed_at", ["closed_at"], unique=False)
        batch_op.create_index("ix_ticket_outcome_closed", ["outcome", "closed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_outcome_closed")
        batch_op.drop_index("ix_ticket_closed_at")
        batch_op.drop_index("ix_ticket_board")
        batch_op.drop_column("extension_pending")
