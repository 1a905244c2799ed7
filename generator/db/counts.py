"""Counts of one round's rows by status, each group read in one statement (consistent within it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import Candidate, Task


def _grouped(session: Session, column: Any, round_column: Any, round_id: int) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count()).where(round_column == round_id).group_by(column)
    ).all()
    return {str(k): int(v) for k, v in rows}


def task_counts(session: Session, round_id: int) -> dict[str, int]:
    """The round's machine tasks by status."""
    return _grouped(session, Task.status, Task.round_id, round_id)


def candidate_counts(session: Session, round_id: int) -> dict[str, int]:
    """The round's candidates by status."""
    return _grouped(session, Candidate.status, Candidate.round_id, round_id)
