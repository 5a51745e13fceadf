"""Alembic environment: runs migrations against the URL set by :mod:`kefu.adapters.db.migrate`."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import event

from kefu.adapters.db import tables  # noqa: F401  (registers every table)
from kefu.adapters.db.base import Base, make_engine

config = context.config
target_metadata = Base.metadata

#: tables made by hand-written SQL (full-text search and its staging), outside the ORM metadata: autogenerate
#: must neither drop them nor the FTS5 shadow tables behind them
UNMANAGED = ("ticket_fts", "ticket_search_docs", "ticket_search_staged")


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(UNMANAGED))


def run_migrations_online() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    if engine.dialect.name == "sqlite":
        # A batch migration rebuilds a table (copy, drop, rename). With foreign keys enforced,
        # dropping a referenced table would cascade into its children, so migrations run with
        # enforcement off (this listener runs after make_engine's, which turns it on).
        @event.listens_for(engine, "connect")
        def _no_foreign_keys(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA foreign_keys=OFF")

    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite", include_object=include_object)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
