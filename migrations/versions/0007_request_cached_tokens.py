"""llm_requests.cached_tokens: prompt tokens the endpoint served from its prompt cache (NULL = not reported)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 has both), not a batch table copy: the views of
# 0003 read llm_requests, and SQLite refuses to rename a table that a view reads.


def upgrade() -> None:
    op.add_column("llm_requests", sa.Column("cached_tokens", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("llm_requests", "cached_tokens")
