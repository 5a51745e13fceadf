"""The full-text index of tickets and their messages (issue 4 §10), one per database engine:

- SQLite: an FTS5 table ``ticket_fts(tokens, ticket_id UNINDEXED)``, fed through the staging
  table ``ticket_search_staged`` (below);
- PostgreSQL: ``ticket_search_docs(ticket_id, tokens)`` with a GIN index on
  ``to_tsvector('simple', tokens)``, written directly (the GIN index gathers new entries in its
  own pending list).

Both hold jieba-tokenised text (:mod:`kefu.adapters.search.tokens`), one row per subject or
message; a query matches a ticket when one of its rows holds every query token. The tables are
made by migrations 0004 and 0010.

Opening a ticket tokenises first (:func:`index_rows`: the costly part) and writes the rows
inside its write transaction afterwards (:func:`add_index_rows`, one short INSERT), so the
database's write lock is not held while text is cut.

**Staging (SQLite).** FTS5 turns each transaction's new rows into a segment of its index and
merges segments as they gather — work done under the database's single write lock, which grew
with the index: at 2,000,000 rows it was most of the time a ticket's transaction held the lock
(bench/desk: 1,000,000 tickets, ~620 tickets opened a second with it, ~1,040 without). So a
writer appends its rows to ``ticket_search_staged`` (a plain table: one B-tree append), and
:func:`flush_staged` moves all staged rows into FTS5 with one ``INSERT … SELECT`` — one segment
for the lot. The writer whose rows bring the staging table to :data:`FLUSH_AT` rows does it in
its own transaction; the desk sweep does it for what is left, and a search does it first, so a
search always sees every committed row.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from kefu.adapters.db.prepared import Prepared
from kefu.adapters.search.tokens import query_tokens, tokens

#: staged rows at which the writer staging them moves every staged row into the FTS5 index
#: (SQLite): a ticket adds two rows, so about every 64 tickets
FLUSH_AT = 128

#: where a dialect's writers put index rows: SQLite stages them, PostgreSQL indexes at once
_TABLE = {"sqlite": "ticket_search_staged (tokens, ticket_id)", "postgresql": "ticket_search_docs (tokens, ticket_id)"}
#: ``INSERT … VALUES`` of n rows, prepared per dialect and n (one statement for a ticket's rows)
_INSERTS: dict[tuple[str, int], Prepared] = {}
_STAGED_ANY = text("SELECT 1 FROM ticket_search_staged LIMIT 1")
_FLUSH = ("INSERT INTO ticket_fts (tokens, ticket_id) SELECT tokens, ticket_id FROM ticket_search_staged ORDER BY id",
          "DELETE FROM ticket_search_staged")


def index_text(conn: Connection, ticket_id: int, *texts: str) -> None:
    """Add ``texts`` (a subject, a message body) to the ticket's searchable text."""
    add_index_rows(conn, ticket_id, index_rows(*texts))


def index_rows(*texts: str) -> list[str]:
    """The index rows of ``texts``: each one's tokens joined by spaces; texts without tokens
    give no row. Pure computation — done before a write transaction."""
    rows = (" ".join(tokens(t)) for t in texts if t and t.strip())
    return [r for r in rows if r]


def add_index_rows(conn: Connection, ticket_id: int, rows: list[str]) -> None:
    """Write rows from :func:`index_rows` for the ticket in the connection's write transaction:
    one prepared statement (:mod:`kefu.adapters.db.prepared`), which runs in a Core transaction
    as well as in ``Database.prepared_write``. On SQLite the rows are staged, and the writer whose
    rows reach :data:`FLUSH_AT` staged rows flushes them all (:func:`flush_staged`)."""
    if not rows:
        return
    dialect = conn.dialect.name
    key = (dialect, len(rows))
    insert = _INSERTS.get(key)
    if insert is None:
        values = ", ".join(f"(:tokens_{i}, :ticket_id)" for i in range(len(rows)))
        returning = " RETURNING id" if dialect == "sqlite" else ""
        insert = _INSERTS.setdefault(key, Prepared(
            text(f"INSERT INTO {_TABLE[dialect]} VALUES {values}{returning}"), conn.dialect))
    params = {f"tokens_{i}": row for i, row in enumerate(rows)}
    if dialect != "sqlite":
        insert.run(conn, ticket_id=ticket_id, **params)
        return
    # every flush empties the table, so the ids since the last one run 1, 2, 3 …: the largest
    # id is the number of rows staged
    if max(row[0] for row in insert.all(conn, ticket_id=ticket_id, **params)) >= FLUSH_AT:
        flush_staged(conn)


def has_staged(conn: Connection) -> bool:
    """Whether rows wait in the staging table (always False on PostgreSQL, which has none)."""
    return conn.dialect.name == "sqlite" and conn.execute(_STAGED_ANY).first() is not None


def flush_staged(conn: Connection) -> int:
    """Move every staged row into the FTS5 index, in id order, inside the connection's write
    transaction; returns how many. Nothing to do on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        return 0
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        moved = cursor.execute(_FLUSH[0]).rowcount
        cursor.execute(_FLUSH[1])
        return int(moved)
    finally:
        cursor.close()


def matching_ticket_ids_sql(conn: Connection, query: str) -> tuple[str, dict[str, str]] | None:
    """A SQL fragment selecting the ids of tickets matching ``query`` (None for an empty query)."""
    words = query_tokens(query)
    if not words:
        return None
    if conn.dialect.name == "sqlite":
        match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        return "SELECT ticket_id FROM ticket_fts WHERE ticket_fts MATCH :q", {"q": match}
    tsquery = " & ".join("'" + w.replace("'", "''").replace("\\", "") + "'" for w in words)
    return ("SELECT ticket_id FROM ticket_search_docs "
            "WHERE to_tsvector('simple', tokens) @@ to_tsquery('simple', :q)"), {"q": tsquery}
