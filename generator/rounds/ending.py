"""Ending a round: the one place a running round is marked completed, failed or cancelled.

Database only (no broker): ``selfinstruct round cancel`` and the fleet's tick both end rounds here.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from generator.db import repository as repo
from generator.db.candidates import retire_surplus
from generator.db.statuses import RoundStatus
from generator.errors import RoundStateError

__all__ = ["cancel_round", "finish"]

log = logging.getLogger(__name__)


def finish(sessions: sessionmaker[Session], round_id: int, status: str, reason: str,
           error: str | None = None) -> bool:
    """End a running round (under the pool lock, so no admission interleaves); False if it had ended."""
    with sessions.begin() as session:
        rnd = repo.get_round(session, round_id)
        repo.lock_pool(session, rnd.pool_id)
        session.refresh(rnd)
        if rnd.status != RoundStatus.RUNNING:
            return False
        # The round row first: candidate writers hold a share lock on it (see
        # repository.round_status_for_update), so once this returns, no pending candidate is
        # still on its way, and retiring sees them all.
        repo.finish_round(session, rnd, status, reason, error)
        retire_surplus(session, round_id)
    log.info("round %s %s (%s)", round_id, status, reason)
    return True


def cancel_round(sessions: sessionmaker[Session], round_id: int) -> None:
    """Cancel a running round (fleet or in-process: both stop at their next look at its status).

    Queued messages of the round then do nothing. RoundStateError if the round had ended.
    """
    with sessions() as session:
        status = repo.get_round(session, round_id).status
    if status != RoundStatus.RUNNING or not finish(sessions, round_id, RoundStatus.CANCELLED, "cancelled"):
        raise RoundStateError(f"round {round_id} is {status}, not running")
