"""when each user was last sent a template message

Revision ID: s15_01
Revises: p15_01
Create Date: 2026-12-07 10:50:00

A person gets at most one template a minute (bot/wechat/outbound.py: ANNOUNCE_EVERY); kept
with the user, every process that delivers sees it, and a restart does not forget it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "s15_01"
down_revision: str | None = "p15_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("template_sent_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("template_sent_at")
