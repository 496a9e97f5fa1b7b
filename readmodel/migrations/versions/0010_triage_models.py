"""triage model versions and imported ticket history

Revision ID: 0008_triage_models
Revises: 0006
Create Date: 2026-11-23 09:00:00
"""

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008_triage_models"
down_revision = "0008_workbench_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_model",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trained_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("artefact", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("samples_json", sa.Text(), nullable=False),
        sa.Column("metrics_json", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("version"),
    )
    with op.batch_alter_table("triage_model", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_triage_model_active"), ["active"], unique=False)

    op.create_table(
        "triage_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("path_detail", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("first_unit", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("lead_unit", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "external_id"),
    )


def downgrade() -> None:
    op.drop_table("triage_history")
    with op.batch_alter_table("triage_model", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_model_active"))
    op.drop_table("triage_model")
