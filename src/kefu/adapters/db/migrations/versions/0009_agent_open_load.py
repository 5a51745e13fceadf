"""service desk: each agent's open-ticket count kept on their row by the database

Assignment (issue 4 §3: least load within capacity) needs every candidate's number of open
tickets. Counting them on each assignment read the agent's part of ``ix_tickets_assignee_open``
— 2.0 ms per batch of new tickets at 1,000,000 tickets for an agent holding ~40,000 open ones
(bench/desk), inside the write lock. ``desk_agents.open_load`` holds that count instead, kept by
triggers on ``tickets`` (a ticket opened, assigned, transferred, resolved, reopened, closed,
merged or deleted — by any code path, bulk UPDATEs included) and set from a count when an agent's
row is created, so no service has to remember it. The condition "open" is the one of the
partial indexes: status new, confirmed, processing or waiting_customer.

SQLite drops a table's triggers when a migration rebuilds it (``batch_alter_table`` in
"recreate" mode): a later migration that rebuilds ``tickets`` or ``desk_agents`` must create
them again (``create_triggers``) and re-count.

Revision ID: 0009_agent_open_load
Revises: 0008_search_merge
Create Date: 2026-11-23 21:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009_agent_open_load'
down_revision = '0008_search_merge'
branch_labels = None
depends_on = None

_OPEN = "('new', 'confirmed', 'processing', 'waiting_customer')"
_COUNT = f"SELECT count(*) FROM tickets WHERE tickets.assignee_id = {{who}} AND tickets.status IN {_OPEN}"

_SQLITE = [
    f"""CREATE TRIGGER tickets_open_load_insert AFTER INSERT ON tickets
        WHEN NEW.assignee_id IS NOT NULL AND NEW.status IN {_OPEN}
        BEGIN UPDATE desk_agents SET open_load = open_load + 1 WHERE user_id = NEW.assignee_id; END""",
    f"""CREATE TRIGGER tickets_open_load_delete AFTER DELETE ON tickets
        WHEN OLD.assignee_id IS NOT NULL AND OLD.status IN {_OPEN}
        BEGIN UPDATE desk_agents SET open_load = open_load - 1 WHERE user_id = OLD.assignee_id; END""",
    f"""CREATE TRIGGER tickets_open_load_update AFTER UPDATE OF assignee_id, status ON tickets
        WHEN OLD.assignee_id IS NOT NEW.assignee_id OR (OLD.status IN {_OPEN}) <> (NEW.status IN {_OPEN})
        BEGIN
          UPDATE desk_agents SET open_load = open_load - 1
           WHERE user_id = OLD.assignee_id AND OLD.status IN {_OPEN};
          UPDATE desk_agents SET open_load = open_load + 1
           WHERE user_id = NEW.assignee_id AND NEW.status IN {_OPEN};
        END""",
    f"""CREATE TRIGGER desk_agents_open_load AFTER INSERT ON desk_agents
        BEGIN UPDATE desk_agents SET open_load = ({_COUNT.format(who='NEW.user_id')})
              WHERE user_id = NEW.user_id; END""",
]
_SQLITE_DROP = ["DROP TRIGGER IF EXISTS tickets_open_load_insert", "DROP TRIGGER IF EXISTS tickets_open_load_delete",
                "DROP TRIGGER IF EXISTS tickets_open_load_update", "DROP TRIGGER IF EXISTS desk_agents_open_load"]

_POSTGRESQL = [
    f"""CREATE FUNCTION kefu_tickets_open_load() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN
            IF OLD.assignee_id IS NOT NULL AND OLD.status IN {_OPEN} THEN
              UPDATE desk_agents SET open_load = open_load - 1 WHERE user_id = OLD.assignee_id;
            END IF;
          END IF;
          IF TG_OP <> 'DELETE' THEN
            IF NEW.assignee_id IS NOT NULL AND NEW.status IN {_OPEN} THEN
              UPDATE desk_agents SET open_load = open_load + 1 WHERE user_id = NEW.assignee_id;
            END IF;
          END IF;
          RETURN NULL;
        END $$""",
    """CREATE TRIGGER tickets_open_load_insert_delete AFTER INSERT OR DELETE ON tickets
        FOR EACH ROW EXECUTE FUNCTION kefu_tickets_open_load()""",
    """CREATE TRIGGER tickets_open_load_update AFTER UPDATE OF assignee_id, status ON tickets
        FOR EACH ROW WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION kefu_tickets_open_load()""",
    f"""CREATE FUNCTION kefu_desk_agents_open_load() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          NEW.open_load := ({_COUNT.format(who='NEW.user_id')});
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER desk_agents_open_load BEFORE INSERT ON desk_agents
        FOR EACH ROW EXECUTE FUNCTION kefu_desk_agents_open_load()""",
]
_POSTGRESQL_DROP = ["DROP TRIGGER IF EXISTS tickets_open_load_insert_delete ON tickets",
                    "DROP TRIGGER IF EXISTS tickets_open_load_update ON tickets",
                    "DROP TRIGGER IF EXISTS desk_agents_open_load ON desk_agents",
                    "DROP FUNCTION IF EXISTS kefu_tickets_open_load()",
                    "DROP FUNCTION IF EXISTS kefu_desk_agents_open_load()"]


def create_triggers() -> None:
    """The triggers of this dialect, and every agent's count taken afresh."""
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE if dialect == "sqlite" else _POSTGRESQL:
        op.execute(statement)
    op.execute(f"UPDATE desk_agents SET open_load = ({_COUNT.format(who='desk_agents.user_id')})")


def upgrade() -> None:
    with op.batch_alter_table('desk_agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_load', sa.Integer(), server_default=sa.text('0'), nullable=False))
    create_triggers()


def downgrade() -> None:
    for statement in _SQLITE_DROP if op.get_bind().dialect.name == "sqlite" else _POSTGRESQL_DROP:
        op.execute(statement)
    with op.batch_alter_table('desk_agents', schema=None) as batch_op:
        batch_op.drop_column('open_load')

