"""InsTag: task taggings and raw tags, versioned tag vocabularies with their raw -> normalized mapping,
diversity metrics per vocabulary version

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_taggings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("tagger_model", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failure_reason", sa.String(40), nullable=True),
        sa.Column("failure_detail", sa.Text(), nullable=True),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["llm_requests.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("task_id"),
    )
    op.create_index(op.f("ix_task_taggings_pool_id"), "task_taggings", ["pool_id"])
    op.create_table(
        "task_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("tagger_model", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tag", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["task_id"], ["tasks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["llm_requests.id"], ondelete="SET NULL"),
        sa.UniqueConstraint("task_id", "position"),
    )
    op.create_index(op.f("ix_task_tags_pool_id"), "task_tags", ["pool_id"])
    op.create_table(
        "tag_vocabularies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("stage_counts", sa.JSON(), nullable=False),
        sa.Column("embedder", sa.String(200), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pool_id"], ["pools.id"], ondelete="CASCADE"),
    )
    op.create_index(op.f("ix_tag_vocabularies_pool_id"), "tag_vocabularies", ["pool_id"])
    op.create_table(
        "tag_mappings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vocabulary_id", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("normalized", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["vocabulary_id"], ["tag_vocabularies.id"], ondelete="CASCADE"),
    )
    op.create_index(op.f("ix_tag_mappings_vocabulary_id"), "tag_mappings", ["vocabulary_id"])
    op.create_table(
        "tag_metrics",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("vocabulary_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("unique_tags", sa.Integer(), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("mean_tags_per_task", sa.Float(), nullable=False),
        sa.Column("entropy", sa.Float(), nullable=False),
        sa.Column("baseline", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["vocabulary_id"], ["tag_vocabularies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["round_id"], ["rounds.id"], ondelete="SET NULL"),
    )
    op.create_index(op.f("ix_tag_metrics_vocabulary_id"), "tag_metrics", ["vocabulary_id"])


def downgrade() -> None:
    for table in ("tag_metrics", "tag_mappings", "tag_vocabularies", "task_tags", "task_taggings"):
        op.drop_table(table)
