"""The full-text index of tickets and their messages (issue 4 §10), one per database engine:

- SQLite: an FTS5 table ``ticket_fts(tokens, ticket_id UNINDEXED)``;
- PostgreSQL: ``ticket_search_docs(ticket_id, tokens)`` with a GIN index on
  ``to_tsvector('simple', tokens)``.

Both hold jieba-tokenised text (:mod:`kefu.adapters.search.tokens`), one row per subject or
message, appended in the same transaction as the message; a query matches a ticket when one of
its rows holds every query token. The tables are made by migration 0004.

Opening a ticket tokenises first (:func:`index_rows`, jieba: the costly part) and writes the rows
inside its write transaction afterwards (:func:`add_index_rows`, one short INSERT each), so the
database's write lock is not held while text is cut.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from kefu.adapters.db.prepared import Prepared
from kefu.adapters.search.tokens import query_tokens, tokens

_INSERT = {
    "sqlite": text("INSERT INTO ticket_fts (tokens, ticket_id) VALUES (:tokens, :ticket_id)"),
    "postgresql": text("INSERT INTO ticket_search_docs (ticket_id, tokens) VALUES (:ticket_id, :tokens)"),
}
_TABLE = {"sqlite": "ticket_fts (tokens, ticket_id)", "postgresql": "ticket_search_docs (tokens, ticket_id)"}
#: ``INSERT … VALUES`` of n rows, prepared per dialect and n (one statement for a ticket's rows)
_INSERTS: dict[tuple[str, int], Prepared] = {}


def index_text(conn: Connection, ticket_id: int, *texts: str) -> None:
    """Add ``texts`` (a subject, a message body) to the ticket's searchable text."""
    rows = [{"ticket_id": ticket_id, "tokens": row} for row in index_rows(*texts)]
    if rows:
        conn.execute(_INSERT[conn.dialect.name], rows)


def index_rows(*texts: str) -> list[str]:
    """The index rows of ``texts``: each one's tokens joined by spaces; texts without tokens
    give no row. Pure computation — done before a write transaction."""
    rows = (" ".join(tokens(t)) for t in texts if t and t.strip())
    return [r for r in rows if r]


def add_index_rows(conn: Connection, ticket_id: int, rows: list[str]) -> None:
    """Write rows from :func:`index_rows` for the ticket: one prepared statement
    (:mod:`kefu.adapters.db.prepared`) in the connection's write transaction."""
    if not rows:
        return
    key = (conn.dialect.name, len(rows))
    insert = _INSERTS.get(key)
    if insert is None:
        values = ", ".join(f"(:tokens_{i}, :ticket_id)" for i in range(len(rows)))
        insert = _INSERTS.setdefault(key, Prepared(text(f"INSERT INTO {_TABLE[key[0]]} VALUES {values}"), conn.dialect))
    insert.run(conn, ticket_id=ticket_id, **{f"tokens_{i}": row for i, row in enumerate(rows)})


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
