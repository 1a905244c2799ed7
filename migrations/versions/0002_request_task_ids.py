"""llm_requests.task_ids: the tasks of a batched classification or instances request

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("llm_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("task_ids", sa.JSON(), nullable=True))
    # Requests stored before batching asked about one task each.
    listed = "'[' || CAST(task_id AS VARCHAR) || ']'"
    if op.get_bind().dialect.name == "postgresql":
        listed = f"CAST({listed} AS JSON)"
    op.execute(f"UPDATE llm_requests SET task_ids = {listed} WHERE task_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("llm_requests", schema=None) as batch_op:
        batch_op.drop_column("task_ids")
