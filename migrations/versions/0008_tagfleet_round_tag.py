"""rounds.tag: a fleet round that tags each task (InsTag) once it is complete

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Plain ALTER TABLE ADD/DROP COLUMN (SQLite >= 3.35 has both), as in 0007: no batch table copy.


def upgrade() -> None:
    op.add_column("rounds", sa.Column("tag", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("rounds", "tag")
