"""compound aliases and the places version

A version number bumped by triggers whenever a compound or an alias is inserted, updated or
deleted, in the same transaction, by whatever process or tool changes it.

Revision ID: s14_02
Revises: s14_01
Create Date: 2026-12-07 04:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "s14_02"
down_revision: str | None = "s14_01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("compound", "compound_alias")
CHANGES = ("insert", "update", "delete")


def upgrade() -> None:
    op.create_table(
        "compound_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["compound_id"], ["compound.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_compound_alias_compound_id", "compound_alias", ["compound_id"])
    op.create_table(
        "place_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO place_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        # An upsert: the row may have been emptied (a TRUNCATE) and must come back.
        op.execute(
            """
            CREATE FUNCTION bump_place_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO place_version (id, version) VALUES (1, 1)
                ON CONFLICT (id) DO UPDATE SET version = place_version.version + 1;
                RETURN NULL;
            END $$
            """
        )
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER {table}_bumps_place_version "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_place_version()"
            )
        return
    for table in WATCHED:
        for change in CHANGES:
            op.execute(
                f"CREATE TRIGGER {table}_{change}_bumps_place_version "
                f"AFTER {change.upper()} ON {table} BEGIN "
                "INSERT OR IGNORE INTO place_version (id, version) VALUES (1, 0); "
                "UPDATE place_version SET version = version + 1 WHERE id = 1; "
                "END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_bumps_place_version ON {table}")
        op.execute("DROP FUNCTION bump_place_version()")
    else:
        for table in WATCHED:
            for change in CHANGES:
                op.execute(f"DROP TRIGGER {table}_{change}_bumps_place_version")
    op.drop_table("place_version")
    op.drop_index("ix_compound_alias_compound_id", "compound_alias")
    op.drop_table("compound_alias")
