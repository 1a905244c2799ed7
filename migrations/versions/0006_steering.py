"""Coverage steering: rounds.steering (the round's SteeringParams) and llm_requests.steering (per prompt:
strategy, aimed-at tags, in-context example task ids, vocabulary version)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


# Plain ADD/DROP COLUMN, not batch mode: on SQLite a batch operation recreates the table, which
# the views of 0003 (round_figures reads llm_requests and rounds) do not survive. SQLite has had
# DROP COLUMN since 3.35.
TABLES = ("rounds", "llm_requests")


def upgrade() -> None:
    # Nullable, no default: rows written before steering existed (and unsteered rounds) are NULL,
    # which reads as strategy "none".
    for table in TABLES:
        op.add_column(table, sa.Column("steering", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN steering")
        else:
            op.drop_column(table, "steering")
