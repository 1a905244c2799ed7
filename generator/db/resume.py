"""Resuming in-process rounds: which round ``generate`` picks up, and reopening a failed one.

Like every repository module: functions take a ``session`` and never commit.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from generator.db.models import Round
from generator.db.repository import running_round
from generator.db.statuses import RoundMode, RoundStatus


def resumable_round(session: Session, pool_id: int) -> Round | None:
    """What ``generate`` resumes: the pool's unfinished in-process round, else its newest in-process
    round if that one failed (a failed round is resumed like an interrupted one), else None.
    """
    running = running_round(session, pool_id)
    if running is not None:
        return running
    newest = session.scalar(
        select(Round)
        .where(Round.pool_id == pool_id, Round.mode == RoundMode.INPROCESS)
        .order_by(Round.id.desc())
        .limit(1)
    )
    return newest if newest is not None and newest.status == RoundStatus.FAILED else None


def reopen_round(session: Session, rnd: Round) -> None:
    """Set a failed round running again (a running one is left as it is)."""
    session.execute(
        update(Round)
        .where(Round.id == rnd.id, Round.status == RoundStatus.FAILED)
        .values(status=RoundStatus.RUNNING, end_reason=None, error=None, finished_at=None)
    )
    session.refresh(rnd)
