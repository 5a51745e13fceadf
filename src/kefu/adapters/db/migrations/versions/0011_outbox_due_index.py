"""outbox: the relay's index holds only the messages still to deliver

``ix_outbox_pending (status, available_at)`` kept an entry for every message ever sent, and each
relay moved every message's entry twice (pending → sending → sent). ``ix_outbox_due
(available_at, id) WHERE status IN ('pending', 'sending')`` holds only the backlog, in the order
the relay takes it (longest waiting first): a delivered message's entry is removed and none is
added.

Revision ID: 0011_outbox_due_index
Revises: 0010_search_staging
Create Date: 2026-11-24 00:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_outbox_due_index'
down_revision = '0010_search_staging'
branch_labels = None
depends_on = None

_UNDELIVERED = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    op.drop_index('ix_outbox_pending', table_name='outbox_messages')
    op.create_index('ix_outbox_due', 'outbox_messages', ['available_at', 'id'], unique=False,
                    sqlite_where=_UNDELIVERED, postgresql_where=_UNDELIVERED)


def downgrade() -> None:
    op.drop_index('ix_outbox_due', table_name='outbox_messages')
    op.create_index('ix_outbox_pending', 'outbox_messages', ['status', 'available_at'], unique=False)
