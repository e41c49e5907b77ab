"""roster entries without an openid, and their bindings

Revision ID: s14_03
Revises: s14_02
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision: str = "s14_03"
down_revision: str | None = "s14_02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "roster_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("skills", sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("building", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("availability", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("volunteer_id", sa.Integer(), nullable=True),
        sa.Column("bound_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["compound_id"], ["compound.id"]),
        sa.ForeignKeyConstraint(["volunteer_id"], ["volunteer.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_roster_entry_compound_id", "roster_entry", ["compound_id"])
    op.create_index("ix_roster_entry_volunteer_id", "roster_entry", ["volunteer_id"])
    op.create_index(
        "ux_roster_entry_unbound_phone",
        "roster_entry",
        ["phone"],
        unique=True,
        sqlite_where=sa.text("volunteer_id IS NULL"),
        postgresql_where=sa.text("volunteer_id IS NULL"),
    )
    op.create_table(
        "volunteer_binding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sqlmodel.sql.sqltypes.AutoString(length=160), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["roster_entry.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_volunteer_binding_entry_id", "volunteer_binding", ["entry_id"])
    op.create_index("ix_volunteer_binding_user_id", "volunteer_binding", ["user_id"])
    op.create_index("ix_volunteer_binding_status", "volunteer_binding", ["status"])


def downgrade() -> None:
    op.drop_table("volunteer_binding")
    op.drop_index("ux_roster_entry_unbound_phone", "roster_entry")
    op.drop_table("roster_entry")
