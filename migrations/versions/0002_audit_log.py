"""Audit log: the intake, the hash-chained table, its head row, and the guards on all three.

On PostgreSQL a row trigger refuses UPDATE and DELETE on ``audit_log`` and a statement trigger
refuses TRUNCATE, whoever asks (even the owner, unless a superuser disables the triggers, which
leaves its own trace in the server log); PUBLIC loses those privileges too. A deployment runs the
application under a role granted only ``SELECT, INSERT`` on ``audit_log`` (see
``contango.audit``). The intake refuses UPDATE and TRUNCATE, and DELETE of any row that the log
does not already hold with the same content under its ``intake_id``: a pending event can leave
the intake only by being sealed. SQLite has no privileges; its triggers do the same.

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

# The columns an intake row and its sealed entry share; the delete guard compares every one.
_EVENT_COLUMNS = (
    "occurred_at",
    "actor_id",
    "actor",
    "action",
    "target",
    "outcome",
    "details",
    "request_id",
    "client_ip",
)


def _same_event(entry: str, intake: str, *, same: str, details: str) -> str:
    """SQL: the entry ``entry`` carries the intake row ``intake`` (null-safe on every column)."""
    checks = [f"{entry}.intake_id = {intake}.id"]
    for column in _EVENT_COLUMNS:
        if column == "details":
            checks.append(details.format(a=f"{entry}.details", b=f"{intake}.details"))
        else:
            checks.append(f"{entry}.{column} {same} {intake}.{column}")
    return " AND ".join(checks)


_PG_SEALED = _same_event("l", "g", same="IS NOT DISTINCT FROM", details="{a}::jsonb = {b}::jsonb")
_SQLITE_SEALED = _same_event("l", "OLD", same="IS", details="json({a}) = json({b})")

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
    # The head row is updated by every sealed batch, but never removed.
    """
    CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
    """,
    # Intake rows are never changed; they leave only once sealed (checked once per statement,
    # over the transition table, so a sealed batch costs one join rather than a call per row).
    """
    CREATE TRIGGER audit_intake_no_update BEFORE UPDATE ON audit_intake
        FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE TRIGGER audit_intake_no_truncate BEFORE TRUNCATE ON audit_intake
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE FUNCTION audit_intake_refuse_unsealed() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        unsealed bigint;
    BEGIN
        SELECT g.id INTO unsealed FROM gone g
        WHERE NOT EXISTS (SELECT 1 FROM audit_log l WHERE @SEALED@)
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'the audit log is append-only: DELETE of unsealed intake row % refused',
                unsealed USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END
    $$
    """.replace("@SEALED@", _PG_SEALED),
    """
    CREATE TRIGGER audit_intake_sealed_only AFTER DELETE ON audit_intake
        REFERENCING OLD TABLE AS gone
        FOR EACH STATEMENT EXECUTE FUNCTION audit_intake_refuse_unsealed()
    """,
    "REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC",
    "REVOKE DELETE, TRUNCATE ON audit_head FROM PUBLIC",
    "REVOKE UPDATE, TRUNCATE ON audit_intake FROM PUBLIC",
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
    """
    CREATE TRIGGER audit_intake_no_update BEFORE UPDATE ON audit_intake
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: UPDATE on audit_intake refused'); END
    """,
    """
    CREATE TRIGGER audit_intake_sealed_only BEFORE DELETE ON audit_intake
    WHEN NOT EXISTS (SELECT 1 FROM audit_log l WHERE @SEALED@)
    BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only: DELETE of unsealed intake row refused');
    END
    """.replace("@SEALED@", _SQLITE_SEALED),
)


def _event_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=500), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=100), nullable=True),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "audit_intake",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(),
            nullable=False,
        ),
        *_event_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_intake")),
        sqlite_autoincrement=True,  # never reuse an id: audit_log.intake_id is unique
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        *_event_columns(),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("intake_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_log_prev_hash")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
        sa.UniqueConstraint("intake_id", name=op.f("uq_audit_log_intake_id")),
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
        op.execute("DROP TABLE audit_intake")
        op.execute("DROP FUNCTION audit_intake_refuse_unsealed()")
        op.execute("DROP FUNCTION audit_log_refuse_change()")
        return
    op.drop_table("audit_head")
    op.drop_table("audit_log")
    op.drop_table("audit_intake")
