"""audit log append-only: triggers reject UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit_log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:30:00

The hash chain (storage/audit.py) shows an edit afterwards; these triggers refuse it at the time, for every
client of the database, the ORM or not. Only INSERT is allowed. Someone with the rights to drop a trigger
can still get past them: the chain remains the check for that (docs/security.md).

SQLite: BEFORE UPDATE / BEFORE DELETE row triggers that RAISE(ABORT). The audit writer's lock statement
(`UPDATE audit_log SET id = id WHERE 0`) touches no row, so no row trigger fires for it.
PostgreSQL: one plpgsql function raising SQLSTATE 42501 (insufficient_privilege), used by a row trigger
on UPDATE OR DELETE and a statement trigger on TRUNCATE (row triggers do not see TRUNCATE).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MESSAGE = "audit_log is append-only"

SQLITE_UP = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN "
    f"SELECT RAISE(ABORT, '{MESSAGE}: UPDATE is not allowed'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN "
    f"SELECT RAISE(ABORT, '{MESSAGE}: DELETE is not allowed'); END",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_log_no_update", "DROP TRIGGER IF EXISTS audit_log_no_delete"]

POSTGRES_UP = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{MESSAGE}: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege'; "
    "END $$",
    "CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log",
    "DROP FUNCTION IF EXISTS audit_log_append_only()",
]


def _statements(up: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    if dialect == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    raise NotImplementedError(f"audit_log triggers: no SQL for the {dialect} dialect (SQLite and PostgreSQL only)")


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
