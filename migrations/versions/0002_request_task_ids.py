"""llm_requests for batches: task_ids (the tasks of a classification or instances request);
finish_reason as text (one reason per prompt)

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
        batch_op.alter_column("finish_reason", existing_type=sa.String(length=40), type_=sa.Text(),
                              existing_nullable=True)
    # Requests stored before batching asked about one task each.
    listed = "'[' || CAST(task_id AS VARCHAR) || ']'"
    if op.get_bind().dialect.name == "postgresql":
        listed = f"CAST({listed} AS JSON)"
    op.execute(f"UPDATE llm_requests SET task_ids = {listed} WHERE task_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("llm_requests", schema=None) as batch_op:
        batch_op.drop_column("task_ids")
        # Reasons of long batches are cut to fit the old column.
        batch_op.alter_column("finish_reason", existing_type=sa.Text(), type_=sa.String(length=40),
                              existing_nullable=True, postgresql_using="left(finish_reason, 40)")
