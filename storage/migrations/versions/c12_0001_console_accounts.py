"""console accounts, sessions, login attempts; the minutes a task credited

Revision ID: c12_0001
Revises: r13_outbox_relevance
Create Date: 2026-12-07 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types


revision: str = 'c12_0001'
down_revision: str | None = 'r13_outbox_relevance'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('admin_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('openid', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('link_code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('link_code_expires_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], ),
    sa.ForeignKeyConstraint(['street_id'], ['street.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('openid'),
    sa.UniqueConstraint('username')
    )
    op.create_index(op.f('ix_admin_account_community_id'), 'admin_account', ['community_id'], unique=False)
    op.create_index(op.f('ix_admin_account_street_id'), 'admin_account', ['street_id'], unique=False)
    op.create_table('console_session',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['admin_account.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_console_session_account_id'), 'console_session', ['account_id'], unique=False)
    op.create_index(op.f('ix_console_session_expires_at'), 'console_session', ['expires_at'], unique=False)
    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=160), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_login_attempt_key_at', 'login_attempt', ['key', 'at'], unique=False)
    op.add_column('help_request', sa.Column('credited_minutes', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('help_request') as batch:
        batch.drop_column('credited_minutes')
    op.drop_index('ix_login_attempt_key_at', table_name='login_attempt')
    op.drop_table('login_attempt')
    op.drop_index(op.f('ix_console_session_expires_at'), table_name='console_session')
    op.drop_index(op.f('ix_console_session_account_id'), table_name='console_session')
    op.drop_table('console_session')
    op.drop_index(op.f('ix_admin_account_street_id'), table_name='admin_account')
    op.drop_index(op.f('ix_admin_account_community_id'), table_name='admin_account')
    op.drop_table('admin_account')
