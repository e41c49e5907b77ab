"""outbox messages name the request and purpose they depend on

Revision ID: r13_outbox_relevance
Revises: s14_03
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "r13_outbox_relevance"
down_revision: str | None = "b12_broadcasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_message_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_request_id"))
        batch_op.drop_column("purpose")
        batch_op.drop_column("request_id")
