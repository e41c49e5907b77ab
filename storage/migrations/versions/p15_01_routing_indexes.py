"""indexes for what routing and delivery read as the database grows

Revision ID: p15_01
Revises: c12_0001
Create Date: 2026-12-07 06:00:00

A volunteer's load (their accepted tasks) and the messages still queued for someone are read
for every help request; by volunteer alone, or by openid alone, those reads walk every task a
volunteer ever did and every message a person was ever sent. The deliverer's claim looks for
messages whose reader wrote since they were tried, and for expired ones: by status alone,
that is every message waiting for its reader.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "p15_01"
down_revision: str | None = "c12_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_help_request_volunteer_status", "help_request", ["volunteer_id", "status"]
    )
    op.create_index(
        "ix_outbox_openid_status", "outbox_message", ["openid", "status", "attempted_at"]
    )
    op.create_index("ix_outbox_expiry", "outbox_message", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_expiry", table_name="outbox_message")
    op.drop_index("ix_outbox_openid_status", table_name="outbox_message")
    op.drop_index("ix_help_request_volunteer_status", table_name="help_request")
