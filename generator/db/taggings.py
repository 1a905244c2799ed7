"""Writing InsTag taggings: one ``task_taggings`` row per task (its unique key is the guard) and its tags.

Every function takes a ``session`` and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Insert, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from generator.db.models import Task, TaskTag, TaskTagging, utcnow
from generator.db.rows import insert_rows, table
from generator.db.statuses import TaggingStatus


@dataclass(frozen=True, slots=True)
class TaggingRow:
    """One task's tagging outcome to store: tags with explanations, or a failure with the raw answer."""

    pool_id: int
    task_id: int
    request_id: int | None
    tagger_model: str
    attempts: int
    tags: tuple[tuple[str, str], ...] = ()        # (tag, explanation), in the model's order
    failure_reason: str | None = None              # set for a failure (then ``tags`` is empty)
    failure_detail: str = ""
    raw: str | None = None


def insert_taggings(session: Session, taggings: Sequence[TaggingRow]) -> set[int]:
    """Store the taggings of tasks that have none yet and their tags; returns the task ids written.

    ``INSERT ... ON CONFLICT (task_id) DO NOTHING``: a task a concurrent delivery tagged first is
    skipped, not tagged twice, and the transaction goes on (no unique-key error to retry).
    """
    if not taggings:
        return set()
    now = utcnow()
    values = [{
        "pool_id": t.pool_id, "task_id": t.task_id, "request_id": t.request_id,
        "tagger_model": t.tagger_model, "attempts": t.attempts, "created_at": now,
        "status": TaggingStatus.FAILED if t.failure_reason else TaggingStatus.TAGGED,
        "failure_reason": t.failure_reason,
        "failure_detail": t.failure_detail[:2000] if t.failure_reason else None,
        "raw": t.raw if t.failure_reason else None,
    } for t in taggings]
    statement = _insert_ignoring_conflicts(session).values(values).returning(table(TaskTagging).c.task_id)
    won = set(session.connection().execute(statement).scalars())
    insert_rows(session, TaskTag, [
        {"pool_id": t.pool_id, "task_id": t.task_id, "request_id": t.request_id,
         "tagger_model": t.tagger_model, "position": n, "tag": tag, "explanation": explanation}
        for t in taggings if t.task_id in won for n, (tag, explanation) in enumerate(t.tags)
    ])
    return won


def _insert_ignoring_conflicts(session: Session) -> Insert:
    taggings = table(TaskTagging)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(taggings).on_conflict_do_nothing(index_elements=["task_id"])
    return sqlite.insert(taggings).on_conflict_do_nothing(index_elements=["task_id"])


def round_tagging_counts(session: Session, round_id: int) -> dict[str, int]:
    """Taggings of the round's tasks by status (tagged, failed)."""
    rows = session.execute(
        select(TaskTagging.status, func.count()).join(Task, Task.id == TaskTagging.task_id)
        .where(Task.round_id == round_id).group_by(TaskTagging.status)
    )
    return {str(status): int(n) for status, n in rows}
