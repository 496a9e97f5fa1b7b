"""projection check: the ticket rows written in the last seconds, found by an index

Revision ID: 0010_projection_check
Revises: 0009_web_board_indexes
Create Date: 2026-12-01 14:30:00
"""

from alembic import op

revision = "0010_projection_check"
down_revision = "0009_web_board_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_updated_at", "ticket", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_ticket_updated_at", table_name="ticket")
