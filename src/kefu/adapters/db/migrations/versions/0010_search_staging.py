"""service desk: new search rows wait in a staging table on SQLite

Each transaction that adds rows to the FTS5 index writes a segment of it, and FTS5 merges
segments as they gather, inside that transaction — under the database's single write lock. With
one segment per ticket this was most of the time a ticket's transaction held the lock at
1,000,000 tickets (bench/desk: ~620 tickets opened a second against ~1,040 with no index at all).
Writers now append their rows to ``ticket_search_staged`` and move them into the index a batch
at a time (:mod:`kefu.adapters.search.ticket_index`), one segment per batch. PostgreSQL indexes
directly and gets no table.

Revision ID: 0010_search_staging
Revises: 0009_agent_open_load
Create Date: 2026-11-23 21:45:00
"""
from __future__ import annotations

from alembic import op

revision = '0010_search_staging'
down_revision = '0009_agent_open_load'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # a rowid table without AUTOINCREMENT: emptied by every flush, its ids start again at 1
        op.execute("CREATE TABLE ticket_search_staged (id INTEGER PRIMARY KEY, tokens TEXT NOT NULL, "
                   "ticket_id INTEGER NOT NULL)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO ticket_fts (tokens, ticket_id) SELECT tokens, ticket_id FROM ticket_search_staged "
                   "ORDER BY id")
        op.execute("DROP TABLE ticket_search_staged")
