"""The full-text index of tickets and their messages (issue 4 §10), one per database engine:

- SQLite: an FTS5 table ``ticket_fts(tokens, ticket_id UNINDEXED)``;
- PostgreSQL: ``ticket_search_docs(ticket_id, tokens)`` with a GIN index on
  ``to_tsvector('simple', tokens)``.

Both hold jieba-tokenised text (:mod:`kefu.adapters.search.tokens`), one row per subject or
message, appended in the same transaction as the message; a query matches a ticket when one of
its rows holds every query token. The tables are made by migration 0004.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from kefu.adapters.search.tokens import query_tokens, tokens

_INSERT = {
    "sqlite": text("INSERT INTO ticket_fts (tokens, ticket_id) VALUES (:tokens, :ticket_id)"),
    "postgresql": text("INSERT INTO ticket_search_docs (ticket_id, tokens) VALUES (:ticket_id, :tokens)"),
}


def index_text(conn: Connection, ticket_id: int, *texts: str) -> None:
    """Add ``texts`` (a subject, a message body) to the ticket's searchable text."""
    rows = [{"ticket_id": ticket_id, "tokens": " ".join(tokens(t))} for t in texts if t and t.strip()]
    rows = [r for r in rows if r["tokens"]]
    if rows:
        conn.execute(_INSERT[conn.dialect.name], rows)


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
