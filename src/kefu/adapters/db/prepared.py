"""Prepared statements for hot paths: a SQLAlchemy Core statement compiled once per dialect and
run straight on the DBAPI cursor of a pooled connection.

Why: on SQLite a Core ``conn.execute(select(...))`` costs about 60 µs of Python per statement
(cache-key generation, execution context, result set machinery) around some 5 µs of SQLite
work (measured for the assistant's session lookup). The smart assistant runs a handful of
statements per message and must answer well over a thousand messages a second on two cores,
so its statements skip that machinery. They keep everything that matters for correctness:

* the SQL is SQLAlchemy's own compilation of the statement for the connection's dialect;
* parameters go through the column types' bind processors (``UTCDateTime`` → UTC, JSON dumped,
  ``Decimal`` as the dialect wants it), results through their result processors (aware
  datetimes, parsed JSON, ``Decimal`` money), exactly as a Core execution would;
* they run on the connection — inside its transaction when it has begun one
  (``Database.write_connection``), in the driver's own mode otherwise.

Limits (checked at preparation): no expanding ``IN`` parameters and no literal-execute
parameters (they need per-call compilation — use Core for those).
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Insert, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    """One statement compiled for one dialect; :meth:`all` / :meth:`first` / :meth:`scalar` run it."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if any(b.expanding or b.literal_execute for b in compiled.binds.values()):
            raise ValueError("prepared statements take no expanding or literal-execute parameters")
        self.sql = compiled.string
        self.positional = bool(compiled.positional)
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ()) if self.positional else ()
        self.bind_names = {bind: compiled.bind_names[bind] for bind in compiled.binds.values()}
        processors = compiled._bind_processors
        self.bind_processors: dict[str, Any] = {name: fn for name, fn in processors.items() if fn is not None}
        # the statement's fixed values (e.g. ``status != 'cancelled'`` compiled as a parameter)
        self.defaults: dict[str, Any] = {
            name: bind.effective_value for bind, name in self.bind_names.items()
            if not bind.required and bind.callable is None and bind.value is not None}
        self.dialect = dialect
        self.result_types = [entry[3] for entry in compiled._result_columns]
        #: built at the first execution: some drivers' processors need the column's type code
        #: from ``cursor.description`` (psycopg's NUMERIC)
        self.result_processors: list[Any] | None = None
        keys = [str(entry[0]) for entry in compiled._result_columns]
        #: rows come back as named tuples: ``row.id`` as with a Core result
        self.row: Any = namedtuple("Row", keys, rename=True) if keys else None

    def _params(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self.defaults, **values}
        for name, fn in self.bind_processors.items():
            if name in merged:
                merged[name] = fn(merged[name])
        if self.positional:
            return [merged[name] for name in self.names]
        return merged

    def _rows(self, conn: Connection, values: Mapping[str, Any], many: bool) -> list[Any]:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self._params(values))
            raw = cursor.fetchall() if many else ([] if (one := cursor.fetchone()) is None else [one])
            processors = self.result_processors
            if processors is None:
                codes = [d[1] for d in cursor.description or ()]
                processors = self.result_processors = [
                    t._cached_result_processor(self.dialect, codes[i] if i < len(codes) else None)
                    for i, t in enumerate(self.result_types)]
        finally:
            cursor.close()
        make: Callable[[Any], tuple[Any, ...]] = self.row._make if self.row is not None else tuple
        if not any(processors):
            return [make(r) for r in raw]
        return [make(fn(v) if fn is not None else v for fn, v in zip(processors, r, strict=False)) for r in raw]

    def all(self, conn: Connection, **values: Any) -> list[Any]:
        """Every row, as named tuples in the statement's column order (``row.id``, ``row[0]``)."""
        return self._rows(conn, values, many=True)

    def first(self, conn: Connection, **values: Any) -> Any:
        """The first row (a named tuple), or None."""
        found = self._rows(conn, values, many=False)
        return found[0] if found else None

    def scalar(self, conn: Connection, **values: Any) -> Any:
        row = self.first(conn, **values)
        return None if row is None else row[0]

    def run(self, conn: Connection, **values: Any) -> int:
        """Execute a statement that returns no rows; the number of rows it changed."""
        return self.run_bound(conn, self.bind(**values))

    def run_many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """:meth:`run` once for each of ``rows``, in one call to the driver (``executemany``: the
        statement is prepared once, the loop runs in the driver)."""
        if not rows:
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self.sql, [self._params(row) for row in rows])
        finally:
            cursor.close()

    def bind(self, **values: Any) -> Sequence[Any] | dict[str, Any]:
        """The driver's parameters for ``values`` (types' bind processors applied): done before
        a write transaction, so the lock is held only while the statement runs."""
        return self._params(values)

    def run_bound(self, conn: Connection, params: Sequence[Any] | dict[str, Any]) -> int:
        """:meth:`run` with parameters from :meth:`bind`."""
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()


class PreparedSet:
    """Statements prepared on first use per dialect (thread-safe; dialects are few). A statement
    may be given as a function of the dialect name, for dialect-specific constructs (``INSERT …
    ON CONFLICT``)."""

    def __init__(self, **statements: ClauseElement | Callable[[str], ClauseElement]) -> None:
        self._statements = statements
        self._by_dialect: dict[str, dict[str, Prepared]] = {}
        self._lock = threading.Lock()

    def of(self, conn: Connection) -> dict[str, Prepared]:
        dialect = conn.dialect
        found = self._by_dialect.get(dialect.name)
        if found is None:
            with self._lock:
                found = self._by_dialect.get(dialect.name)
                if found is None:
                    found = {name: Prepared(s if isinstance(s, ClauseElement) else s(dialect.name), dialect)
                             for name, s in self._statements.items()}
                    self._by_dialect[dialect.name] = found
        return found


def insert_returning_id(table: Table, columns: Sequence[str]) -> Insert:
    """``INSERT … RETURNING id`` with one ``v_<column>`` parameter per column, for a
    :class:`PreparedSet` (run it with :func:`v_params` of the row)."""
    return insert(table).values({c: bindparam(f"v_{c}") for c in columns}).returning(table.c.id)


def v_params(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row's values under the ``v_<column>`` names of :func:`insert_returning_id`."""
    return {f"v_{k}": v for k, v in values.items()}


class CapturedInserts:
    """Stands in for the connection given to a helper that writes with ``conn.execute(insert,
    rows)`` (:func:`~kefu.services.notifications.queue_customer_messages`) and takes the rows
    instead, so they are written as prepared statements inside ``Database.prepared_write``: the
    helper still decides the rows. It accepts only ``execute(insert, rows)`` of a plain
    ``INSERT`` (anything else is a programming error, raised at once); :meth:`add` captures rows
    directly. One capture may gather the rows of several tickets of a write transaction:
    :meth:`write` sends each table's rows in one multi-row INSERT."""

    #: rows per INSERT statement at most (well under SQLite's and PostgreSQL's parameter limits)
    MAX_ROWS = 200

    def __init__(self) -> None:
        self.inserts: list[tuple[Table, list[dict[str, Any]]]] = []

    def execute(self, statement: Any, rows: Any = None) -> None:
        if not isinstance(statement, Insert) or not isinstance(statement.table, Table) or rows is None:
            raise TypeError(f"only a plain INSERT with its rows can be captured, not {statement!r}")
        self.add(statement.table, rows if isinstance(rows, list) else [rows])

    def add(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Capture ``rows`` for ``table`` (each a dict of column values)."""
        if rows:
            self.inserts.append((table, rows))

    def write(self, conn: Connection) -> None:
        """Write what was captured and forget it: the rows of one table with the same columns in
        one prepared multi-row INSERT (in the order captured; tables in the order first captured,
        so a table's rows still follow those of a table captured before it), at most
        :data:`MAX_ROWS` a statement."""
        groups: dict[tuple[str, tuple[str, ...]], tuple[Table, list[dict[str, Any]]]] = {}
        for table, rows in self.inserts:
            for row in rows:
                groups.setdefault((table.name, tuple(row)), (table, []))[1].append(row)
        self.inserts = []
        for (_, columns), (table, rows) in groups.items():
            for start in range(0, len(rows), self.MAX_ROWS):
                part = rows[start:start + self.MAX_ROWS]
                params = {f"v{i}_{c}": value for i, row in enumerate(part) for c, value in row.items()}
                _multi_row_insert(conn, table, columns, len(part)).run(conn, **params)


_INSERTS: dict[tuple[str, str, tuple[str, ...], int], Prepared] = {}


def _multi_row_insert(conn: Connection, table: Table, columns: tuple[str, ...], n: int) -> Prepared:
    key = (conn.dialect.name, table.name, columns, n)
    found = _INSERTS.get(key)
    if found is None:
        # typed parameters: a multi-row VALUES does not give them the columns' types by itself
        statement = insert(table).values([{c: bindparam(f"v{i}_{c}", type_=table.c[c].type) for c in columns}
                                          for i in range(n)])
        found = _INSERTS.setdefault(key, Prepared(statement, conn.dialect))
    return found
