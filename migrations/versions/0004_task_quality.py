"""task_quality: InstructMining indicators per task (null perplexity with its reason)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_quality",
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("input_length", sa.Integer(), nullable=False),
        sa.Column("output_length", sa.Integer(), nullable=False),
        sa.Column("mtld", sa.Float(), nullable=True),
        sa.Column("knn6", sa.Float(), nullable=True),
        sa.Column("perplexity", sa.Float(), nullable=True),
        sa.Column("perplexity_reason", sa.Text(), nullable=True),
        sa.Column("reward", sa.Float(), nullable=True),
        sa.Column("rule_score", sa.Float(), nullable=True),
        sa.Column("embedder", sa.String(length=200), nullable=False),
        sa.Column("scorer", sa.String(length=200), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], name=op.f("fk_task_quality_pool_id_pools"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], name=op.f("fk_task_quality_task_id_tasks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_task_quality")),
    )
    op.create_index(op.f("ix_task_quality_pool_id"), "task_quality", ["pool_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_task_quality_pool_id"), table_name="task_quality")
    op.drop_table("task_quality")
