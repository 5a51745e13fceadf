"""service desk: merge the SQLite full-text index eight segments at a time

FTS5 writes every transaction's new rows as a segment and, with its default ``automerge=4``,
merges a level's segments as soon as four have gathered — work done inside the writing
transaction, so under the database's single write lock. With 2,000,000 search rows that merge
work was most of opening a ticket (bench/desk: 2.6 ms of the FTS insert per single-ticket
transaction). Merging eight at a time rewrites each row fewer times over its life: ticket
creation at 1,000,000 tickets went 479–502 → 708–774 tickets/s with the same p99 (147–187 ms;
``automerge=16`` gave ~800/s but p99 ~0.5 s, its merges holding the lock longer), and a search
still reads the index in under a millisecond. PostgreSQL's GIN index needs nothing.

Revision ID: 0008_search_merge
Revises: 0007_desk_perf
Create Date: 2026-11-23 20:05:00
"""
from __future__ import annotations

from alembic import op

revision = '0008_search_merge'
down_revision = '0007_desk_perf'
branch_labels = None
depends_on = None

#: segments of one level that FTS5 merges together (its default: 4)
AUTOMERGE = 8


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"INSERT INTO ticket_fts (ticket_fts, rank) VALUES ('automerge', {AUTOMERGE})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("INSERT INTO ticket_fts (ticket_fts, rank) VALUES ('automerge', 4)")
