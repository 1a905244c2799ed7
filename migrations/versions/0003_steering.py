"""Coverage steering: rounds.steering (the round's SteeringParams) and llm_requests.steering (per prompt:
strategy, aimed-at tags, in-context example task ids, vocabulary version)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: rows written before steering existed (and unsteered rounds) are NULL,
    # which reads as strategy "none".
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("steering", sa.JSON(), nullable=True))
    with op.batch_alter_table("llm_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("steering", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("llm_requests", schema=None) as batch_op:
        batch_op.drop_column("steering")
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("steering")
