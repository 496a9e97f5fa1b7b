"""deadline counters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:45:12.577295
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        # Defaults so tickets already in the read model get a value.
        batch_op.add_column(sa.Column("warned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("urge_count", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("extension_count", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("extension_count")
        batch_op.drop_column("urge_count")
        batch_op.drop_column("warned")
