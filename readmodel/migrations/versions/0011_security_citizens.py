"""self-service failures counted per client too; citizens masked in every stored ticket state

Revision ID: 0008_security_citizens
Revises: 0007
Create Date: 2026-12-01 09:30:00

Merged repeat callers (appeals) used to be stored in clear in ticket.state_json: they are masked
here like the filer, so the read model holds masked values and salted hashes only.
"""

import json

import sqlalchemy as sa
from alembic import op

from domain.privacy import mask_name, mask_phone, scrub_phones

revision = "0008_security_citizens"
down_revision = "0008_triage_models"
branch_labels = None
depends_on = None


def _mask(citizen: dict) -> None:
    citizen["name"] = mask_name(citizen.get("name") or "")
    citizen["phone"] = mask_phone(citizen.get("phone"))


def upgrade() -> None:
    with op.batch_alter_table("lookup_failure", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_lookup_failure_client"), ["client"], unique=False)
    conn = op.get_bind()
    ticket = sa.table("ticket", sa.column("number", sa.String), sa.column("state_json", sa.Text))
    for number, state_json in conn.execute(sa.select(ticket.c.number, ticket.c.state_json)).all():
        state = json.loads(state_json)
        request = state.get("request") or {}
        if "citizen" in request:
            _mask(request["citizen"])
        request["description"] = scrub_phones(request.get("description") or "")
        for appeal in state.get("appeals") or []:
            _mask(appeal.get("citizen") or {})
            appeal["description"] = scrub_phones(appeal.get("description") or "")
        masked = json.dumps(state, ensure_ascii=False)
        if masked != state_json:
            conn.execute(ticket.update().where(ticket.c.number == number).values(state_json=masked))


def downgrade() -> None:
    with op.batch_alter_table("lookup_failure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lookup_failure_client"))
        batch_op.drop_column("client")
