"""Repository reads of the fleet's round control (tick, follow-ups, scheduled starts).

Every function takes a ``session`` and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import Round, Task
from generator.db.rows import table
from generator.db.statuses import LIVE_STATUSES, OPEN_STATUSES, RoundMode, RoundStatus, TaskStatus
from generator.db.tags import count_round_untagged


def open_tasks(session: Session, round_id: int) -> list[tuple[int, str]]:
    """The round's tasks still waiting for classification or instances: ``(id, status)`` by id."""
    rows = session.execute(
        select(Task.id, Task.status).where(Task.round_id == round_id, Task.status.in_(OPEN_STATUSES))
        .order_by(Task.id)
    )
    return [(int(i), str(s)) for i, s in rows]


def running_fleet_rounds(session: Session) -> list[int]:
    """Ids of the running fleet rounds, oldest first."""
    return list(session.scalars(
        select(Round.id).where(Round.status == RoundStatus.RUNNING, Round.mode == RoundMode.FLEET)
        .order_by(Round.id)
    ))


def round_status(session: Session, round_id: int) -> str | None:
    """The round's status, None for a missing round (a Core read: workers run it every few messages)."""
    rounds = table(Round)
    found = session.connection().execute(select(rounds.c.status).where(rounds.c.id == round_id)).scalar()
    return None if found is None else str(found)


def round_tags(session: Session, round_id: int) -> bool:
    """Whether the round has tagging on (False for a missing round)."""
    return bool(session.scalar(select(Round.tag).where(Round.id == round_id)))


@dataclass(frozen=True, slots=True)
class Progress:
    """The few figures a follow-up needs to tell whether a round may be done."""

    target: int
    live: int
    open_tasks: int
    untagged: int

    @property
    def may_be_done(self) -> bool:
        return self.live >= self.target and self.open_tasks == 0 and self.untagged == 0


def round_progress(session: Session, round_id: int) -> Progress:
    """Target, live and open task counts in one statement (plus untagged tasks with tagging on)."""
    target, live, still_open, tag = session.execute(select(
        select(Round.target).where(Round.id == round_id).scalar_subquery(),
        _count(round_id, LIVE_STATUSES), _count(round_id, OPEN_STATUSES),
        select(Round.tag).where(Round.id == round_id).scalar_subquery(),
    )).one()
    untagged = count_round_untagged(session, round_id) if tag else 0
    return Progress(int(target or 0), int(live), int(still_open), untagged)


def usable_pool_size(session: Session, pool_id: int) -> int:
    """The pool's tasks that did not end without instances (seeds included)."""
    return int(session.scalar(
        select(func.count()).where(Task.pool_id == pool_id, Task.status != TaskStatus.NO_INSTANCES)
    ) or 0)


def _count(round_id: int, statuses: tuple[str, ...]) -> Any:
    return select(func.count()).where(Task.round_id == round_id, Task.status.in_(statuses)).scalar_subquery()
