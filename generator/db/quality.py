"""Storage of the InstructMining indicators (``task_quality``) and the examples they are computed on.

Every function takes a ``session`` and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from generator.analysis.quality import Example, Indicators
from generator.db.models import Instance, Task, TaskQuality


def quality_examples(session: Session, pool_id: int) -> list[Example]:
    """One example per task that has instances: the instruction with its first instance."""
    first = (
        select(Instance.task_id, func.min(Instance.position).label("position"))
        .group_by(Instance.task_id)
        .subquery()
    )
    rows = session.execute(
        select(Task.id, Task.instruction, Instance.input, Instance.output)
        .join(first, first.c.task_id == Task.id)
        .join(Instance, (Instance.task_id == Task.id) & (Instance.position == first.c.position))
        .where(Task.pool_id == pool_id)
        .order_by(Task.id)
    )
    return [Example(i, text, input_text, output) for i, text, input_text, output in rows]


def task_ids_with_instances(session: Session, pool_id: int) -> list[int]:
    """The ids of the pool's tasks that have at least one instance (what any selection draws from)."""
    return list(
        session.scalars(
            select(Task.id)
            .where(Task.pool_id == pool_id, select(Instance.id).where(Instance.task_id == Task.id).exists())
            .order_by(Task.id)
        )
    )


def store_indicators(
    session: Session, pool_id: int, rows: Sequence[Indicators], *, embedder: str, scorer: str | None
) -> int:
    """Replace the stored indicators of these tasks (re-running ``quality`` rewrites them); how many."""
    ids = [r.task_id for r in rows]
    for start in range(0, len(ids), 500):
        session.execute(delete(TaskQuality).where(TaskQuality.task_id.in_(ids[start : start + 500])))
    if rows:
        session.execute(
            insert(TaskQuality),
            [
                {
                    "task_id": r.task_id,
                    "pool_id": pool_id,
                    "input_length": r.input_length,
                    "output_length": r.output_length,
                    "mtld": r.mtld,
                    "knn6": r.knn6,
                    "perplexity": r.perplexity,
                    "perplexity_reason": r.perplexity_reason,
                    "reward": r.reward,
                    "rule_score": r.rule_score,
                    "embedder": embedder,
                    "scorer": scorer,
                }
                for r in rows
            ],
        )
    return len(rows)


def stored_indicators(session: Session, pool_id: int) -> tuple[Indicators, ...]:
    """The stored indicators of the pool's tasks, by task id."""
    q = TaskQuality
    rows = session.execute(
        select(
            q.task_id,
            q.input_length,
            q.output_length,
            q.mtld,
            q.knn6,
            q.perplexity,
            q.perplexity_reason,
            q.reward,
            q.rule_score,
        )
        .where(q.pool_id == pool_id)
        .order_by(q.task_id)
    )
    return tuple(Indicators(*row) for row in rows)
