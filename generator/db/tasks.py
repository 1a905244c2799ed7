"""Statements on ``tasks`` shared by the batch steps: reading a batch, the status guard, per-task updates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, ColumnElement, Row, case, select, update
from sqlalchemy import cast as cast_sql
from sqlalchemy.orm import Session

from generator.db.models import Instance, Task
from generator.db.rows import table

# (id, pool_id, round_id, instruction, status, is_classification): what a batch step reads of a task.
StepTaskRow = Row[int, int, int | None, str, str, bool | None]


def tasks_in_status_by_id(session: Session, task_ids: Sequence[int], status: str) -> list[StepTaskRow]:
    """The tasks among ``task_ids`` still in ``status`` (in no particular order), read in one SELECT."""
    if not task_ids:
        return []
    tasks = table(Task)
    query = select(
        tasks.c.id, tasks.c.pool_id, tasks.c.round_id, tasks.c.instruction, tasks.c.status,
        tasks.c.is_classification,
    ).where(tasks.c.id.in_(list(task_ids)), tasks.c.status == status)
    return list(session.connection().execute(query).all())


def per_task(values: Mapping[int, object], like: Column[Any]) -> ColumnElement[Any]:
    """Each task's own value of a column, as ``CASE id WHEN ... END`` typed like the column, so one
    UPDATE sets different values on a batch of tasks."""
    return cast_sql(case(dict(values), value=table(Task).c.id), like.type)


def move_tasks(session: Session, task_ids: Sequence[int], from_status: str, **values: Any) -> set[int]:
    """Set ``values`` on the tasks still in ``from_status`` (one Core UPDATE); returns the ids whose
    guard won.

    The status guard is what makes steps idempotent: a task another delivery already moved on
    is not moved (nor written for) again.
    """
    if not task_ids:
        return set()
    tasks = table(Task)
    statement = (
        update(tasks)
        .where(tasks.c.id.in_(list(task_ids)), tasks.c.status == from_status)
        .values(**values)
        .returning(tasks.c.id)
    )
    return set(session.connection().execute(statement).scalars())


def settle_tasks(
    session: Session,
    from_status: str,
    values: Mapping[int, Mapping[str, object]],
    increments: Mapping[int, Mapping[str, int]],
) -> set[int]:
    """One guarded UPDATE giving each task its own ``values`` (column → value) and adding its
    ``increments`` (column → amount) to integer columns; returns the ids whose guard won.
    Every task must name the same columns.
    """
    if not values:
        return set()
    columns = table(Task).c
    first = next(iter(values.values()))
    sets: dict[str, Any] = {
        name: per_task({i: v[name] for i, v in values.items()}, columns[name]) for name in first
    }
    for name in next(iter(increments.values()), {}):
        amounts = {i: increments[i][name] for i in values}
        sets[name] = columns[name] + per_task(amounts, columns[name])
    return move_tasks(session, list(values), from_status, **sets)


def task_statuses(session: Session, task_ids: Sequence[int]) -> list[str]:
    """The statuses of the tasks among ``task_ids`` (in no particular order)."""
    return list(session.scalars(select(Task.status).where(Task.id.in_(task_ids))))


def tasks_with_instances(
    session: Session, task_ids: Sequence[int]
) -> tuple[dict[int, Task], dict[int, list[Instance]]]:
    """The tasks among ``task_ids`` by id, and their instances in position order by task id."""
    tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(task_ids)))}
    instances: dict[int, list[Instance]] = {}
    for row in session.scalars(select(Instance).where(Instance.task_id.in_(task_ids))
                               .order_by(Instance.task_id, Instance.position)):
        instances.setdefault(row.task_id, []).append(row)
    return tasks, instances
