"""Job dispatch: when a queued job's queue message was last sent.

A job is saved (committed) before its queue message is sent, and a broker can lose messages
(restarted without persistence); ``dispatched_at`` lets the job runners send again what was
never sent or never taken. Jobs queued before this revision count as never sent, so they are
sent once more after the upgrade (a duplicate message finds the job taken and does nothing).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
