"""A fleet round's state read from the database, through the same reader the in-process runner uses."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from generator.db.models import Round
from generator.db.statuses import OPEN_STATUSES
from generator.rounds.state import Observed, observe

__all__ = ["OPEN_STATUSES", "Observed", "load_state"]


def load_state(session: Session, round_id: int, *, full: bool = False, stage_failures: int = 0,
               last_stage_failure: str = "") -> Observed | None:
    """The round as seen now, or None if there is no such round.

    ``full`` also reads what the failure rule needs (the newest requests, recent progress): the
    tick does, the follow-ups of every task do not.
    """
    rnd = session.get(Round, round_id)
    if rnd is None:
        return None
    return observe(session, rnd, datetime.now(UTC), full=full, stage_failures=stage_failures,
                   last_stage_failure=last_stage_failure)
