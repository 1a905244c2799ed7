"""Reads for steering's incremental coverage: stored tags in tagging order, the pool's vocabulary version.

Whoever tags a task (the in-process round's tag jobs, the fleet's ``tag`` stage, ``selfinstruct tag``)
writes one ``task_taggings`` row per task, so the tagging id grows with tagging time: a reader that
remembers the last tagging id it saw reads each task's tags once.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import TagVocabulary, TaskTag, TaskTagging

__all__ = ["latest_vocabulary_id", "taggings_after"]


def taggings_after(session: Session, pool_id: int, after_id: int) -> tuple[int, dict[int, tuple[str, ...]]]:
    """The pool's taggings with id > ``after_id``: ``(last tagging id seen, {task_id: raw tags in order})``.

    A failed tagging (no tags) advances the id but adds no task: it is not a task with zero tags.
    ``last`` is ``after_id`` when there is nothing new.
    """
    last = session.scalar(select(func.max(TaskTagging.id)).where(
        TaskTagging.pool_id == pool_id, TaskTagging.id > after_id))
    if last is None:
        return after_id, {}
    rows = session.execute(
        select(TaskTag.task_id, TaskTag.tag)
        .join(TaskTagging, TaskTagging.task_id == TaskTag.task_id)
        .where(TaskTagging.pool_id == pool_id, TaskTagging.id > after_id, TaskTagging.id <= last)
        .order_by(TaskTag.task_id, TaskTag.position)
    )
    tags: dict[int, list[str]] = {}
    for task_id, tag in rows:
        tags.setdefault(task_id, []).append(tag)
    return int(last), {task_id: tuple(raws) for task_id, raws in tags.items()}


def latest_vocabulary_id(session: Session, pool_id: int) -> int | None:
    """The id of the pool's newest vocabulary version, or None before its first normalization."""
    return session.scalar(select(func.max(TagVocabulary.id)).where(TagVocabulary.pool_id == pool_id))
