"""Job leases: an index for the recovery scan of expired leases.

The lease columns (``attempt``, ``max_attempts``, ``lease_owner``, ``lease_expires_at``) came
with the jobs table; every process that runs workers now scans ``status = 'running' AND
lease_expires_at < now`` every few seconds, which this index keeps cheap however many finished
jobs the table holds.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_lease", ["status", "lease_expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_lease")
