"""drop intake_request.result_json (never written: a retry's answer is rebuilt from the row)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("intake_request", schema=None) as batch_op:
        batch_op.drop_column("result_json")


def downgrade() -> None:
    with op.batch_alter_table("intake_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result_json", sa.Text(), nullable=True))
