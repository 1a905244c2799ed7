"""Statements of admission: the candidates waiting for it, the tasks it inserts, their statuses.

Every function takes a ``session`` and never commits (the admitter owns the transaction). The hot
ones run as Core statements on the session's connection: an admission pass writes a whole batch
with a handful of statements (see :mod:`generator.steps.admission`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from generator.db.models import Candidate, Task
from generator.db.rows import table
from generator.db.statuses import CandidateStatus

__all__ = [
    "CandidateRow", "insert_tasks", "pending_candidates", "pool_tasks_after", "retire_surplus",
    "set_candidate_status", "set_nearest_task_ids",
]

CandidateRow = Row[int, int, str]  # (id, request_id, text)


def pool_tasks_after(session: Session, pool_id: int, after_id: int) -> list[tuple[int, str, str]]:
    """``(task_id, instruction, instruction_hash)`` of every pool task with id > ``after_id``, by id
    (whatever its status: a task without instances still blocks near-duplicates)."""
    found = session.execute(
        select(Task.id, Task.instruction, Task.instruction_hash)
        .where(Task.pool_id == pool_id, Task.id > after_id)
        .order_by(Task.id)
    )
    return [(r[0], r[1], r[2]) for r in found]


def pending_candidates(session: Session, round_id: int) -> list[CandidateRow]:
    """The round's candidates still waiting for admission, ``(id, request_id, text)`` in id order."""
    candidates = table(Candidate)
    query = (
        select(candidates.c.id, candidates.c.request_id, candidates.c.text)
        .where(candidates.c.round_id == round_id, candidates.c.status == CandidateStatus.PENDING)
        .order_by(candidates.c.id)
    )
    return list(session.connection().execute(query).all())


def insert_tasks(session: Session, values: Sequence[Mapping[str, object]]) -> list[int]:
    """Insert task rows (column → value, every row naming the same columns) with one multi-row
    statement; their ids, in the order given."""
    if not values:
        return []
    tasks = table(Task)
    statement = insert(tasks).returning(tasks.c.id, sort_by_parameter_order=True)
    return [int(i) for i in session.connection().execute(statement, [dict(v) for v in values]).scalars()]


def set_nearest_task_ids(session: Session, nearest: Mapping[int, int | None]) -> None:
    """Set ``nearest_task_id`` of each task id given (one executemany); nothing when empty."""
    if nearest:
        tasks = table(Task)
        fix = update(tasks).where(tasks.c.id == bindparam("tid")).values(nearest_task_id=bindparam("near"))
        session.connection().execute(fix, [{"tid": t, "near": n} for t, n in nearest.items()])


def set_candidate_status(session: Session, candidate_ids: Sequence[int], status: CandidateStatus) -> None:
    """Move the given candidates to ``status`` (one UPDATE); nothing when empty."""
    if candidate_ids:
        candidates = table(Candidate)
        session.connection().execute(
            update(candidates).where(candidates.c.id.in_(list(candidate_ids))).values(status=status)
        )


def retire_surplus(session: Session, round_id: int) -> None:
    """Mark candidates left pending when a round ends as surplus (generated, never judged)."""
    session.execute(
        update(Candidate)
        .where(Candidate.round_id == round_id, Candidate.status == CandidateStatus.PENDING)
        .values(status=CandidateStatus.SURPLUS)
        .execution_options(synchronize_session=False)
    )
