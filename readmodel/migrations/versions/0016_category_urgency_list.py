"""ticket lists by category and urgency: found, ordered and counted from an index

Revision ID: 0011_category_urgency_list
Revises: 0010_projection_check
Create Date: 2026-12-02 17:20:00
"""

from alembic import op

revision = "0011_category_urgency_list"
down_revision = "0010_projection_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_category_urgency_received", "ticket", ["category", "urgency", "received_at", "number"])


def downgrade() -> None:
    op.drop_index("ix_ticket_category_urgency_received", table_name="ticket")
