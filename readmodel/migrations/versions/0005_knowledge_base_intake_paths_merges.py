"""knowledge base, intake paths, merges

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:02:28.888241
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('knowledge_article',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('keywords', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('intake_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('intake_path', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch_op.add_column(sa.Column('repeat_count', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('callback_attempt', sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column('resolved', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('satisfaction', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_address_key'), ['address_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_intake_path'), ['intake_path'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_intake_path'))
        batch_op.drop_index(batch_op.f('ix_ticket_address_key'))
        batch_op.drop_column('satisfaction')
        batch_op.drop_column('resolved')
        batch_op.drop_column('callback_attempt')
        batch_op.drop_column('repeat_count')
        batch_op.drop_column('intake_path')
        batch_op.drop_column('address_key')

    with op.batch_alter_table('intake_request', schema=None) as batch_op:
        batch_op.drop_column('merged_into')

    op.drop_table('knowledge_article')
