"""Reads of the tasks a prompt may show: a random sample, live tasks by id, those that stopped being live."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import Task
from generator.db.statuses import LIVE_STATUSES, Origin

__all__ = ["live_tasks_after", "retired_machine_tasks", "sample_instructions"]


def live_tasks_after(session: Session, pool_id: int, after_id: int) -> list[tuple[int, str, str]]:
    """``(task_id, origin, instruction)`` of the pool's seeds and live machine tasks with id > ``after_id``,
    by id. Admission is serialized per pool, so ids grow with admission time: a caller that remembers
    the last id it saw reads each task once."""
    query = (
        select(Task.id, Task.origin, Task.instruction)
        .where(
            Task.pool_id == pool_id,
            Task.id > after_id,
            (Task.origin == Origin.SEED) | Task.status.in_(LIVE_STATUSES),
        )
        .order_by(Task.id)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(query)]


def retired_machine_tasks(session: Session, pool_id: int, up_to_id: int) -> set[int]:
    """Ids (<= ``up_to_id``) of the pool's machine tasks that are no longer live (e.g. no instances)."""
    query = select(Task.id).where(
        Task.pool_id == pool_id,
        Task.origin == Origin.MACHINE,
        Task.id <= up_to_id,
        Task.status.not_in(LIVE_STATUSES),
    )
    return set(session.scalars(query))


def sample_instructions(session: Session, pool_id: int, origin: str, k: int) -> list[str]:
    """Up to ``k`` random instructions of the pool of one origin (machine ones only while live)."""
    if k <= 0:
        return []
    query = select(Task.instruction).where(Task.pool_id == pool_id, Task.origin == origin)
    if origin == Origin.MACHINE:
        query = query.where(Task.status.in_(LIVE_STATUSES))
    return list(session.scalars(query.order_by(func.random()).limit(k)))
