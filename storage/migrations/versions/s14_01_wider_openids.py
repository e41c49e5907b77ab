"""wider openid and message key columns

Openids longer than 64 characters (WeCom user ids, test accounts) failed on PostgreSQL with
"value too long", and so did message keys over 160; SQLite never enforced the lengths, so only
PostgreSQL changes.

Revision ID: s14_01
Revises: 0001
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s14_01"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDER = (("user", "openid", 64, 128), ("outbox_message", "openid", 64, 128), ("request_event", "actor", 64, 160), ("processed_message", "key", 160, 256))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, old, new in WIDER:
        op.alter_column(table, column, type_=sa.String(new), existing_type=sa.String(old))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, old, new in WIDER:
        op.alter_column(table, column, type_=sa.String(old), existing_type=sa.String(new))
