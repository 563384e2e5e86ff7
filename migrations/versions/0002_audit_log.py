"""Audit log: the hash-chained table, its head row, and the guards that make it append-only.

On PostgreSQL a row trigger refuses UPDATE and DELETE and a statement trigger refuses TRUNCATE,
whoever asks (even the owner, unless a superuser disables the triggers, which leaves its own
trace in the server log); PUBLIC loses those privileges too. A deployment runs the application
under a role granted only ``SELECT, INSERT`` on ``audit_log`` (see ``contango.audit``). SQLite
has no privileges; triggers refuse UPDATE and DELETE there as well.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64  # contango.audit.canonical.GENESIS_HASH, fixed here as migrations must be

_PG_GUARDS = (
    """
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
    """,
    # The head row is updated by every append, but never removed.
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
    """,
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
    "REVOKE DELETE, TRUNCATE ON audit_head FROM PUBLIC",
)

_SQLITE_GUARDS = (
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_log refused'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_log refused'); END
    """,
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: DELETE on audit_head refused'); END
    """,
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_log_prev_hash")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS_HASH, "prev_hash": GENESIS_HASH}])
    guards = _PG_GUARDS if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE audit_head")
        op.execute("DROP TABLE audit_log")
        op.execute("DROP FUNCTION audit_log_refuse_change()")
        return
    op.drop_table("audit_head")
    op.drop_table("audit_log")
