"""Read functions behind `pool list`, `export` and the API listing: filtered, paginated, typed.

Listing and export read in keyset pages (``tasks.id > last``), so a page deep in a large pool
costs as much as the first, and an export streams: at most one page of tasks is in memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.filters import Page, TaskFilter, select_task_ids, task_conditions
from generator.db.models import Candidate, Instance, LLMRequest, Pool, Round, Task
from generator.db.readmodels import TaskRow
from generator.errors import NotFoundError
from generator.export.records import ExportInstance, ExportTask

EXPORT_PAGE = 1_000


def pool_id_of(session: Session, name: str) -> int:
    """The id of the pool called ``name``; NotFoundError naming the pools that exist."""
    pool_id = session.scalar(select(Pool.id).where(Pool.name == name))
    if pool_id is None:
        names = list(session.scalars(select(Pool.name).order_by(Pool.name).limit(20)))
        raise NotFoundError(f"no pool named {name!r} (pools: {', '.join(names) or 'none'})")
    return pool_id


def rows_by_id(session: Session, ids: Sequence[int]) -> list[TaskRow]:
    """The tasks with ``ids`` (in id order) with their instances and generation model."""
    if not ids:
        return []
    # Plain column rows, not ORM entities: an export of 50K tasks would spend most of its time
    # building (and tracking) Task objects it only reads once.
    query = (
        select(
            Task.id,
            Task.origin,
            Task.round_id,
            Task.status,
            Task.is_classification,
            Task.instruction,
            Task.nearest_task_id,
            Task.nearest_score,
            Task.created_at,
            LLMRequest.model,
        )
        .outerjoin(Candidate, Candidate.id == Task.candidate_id)
        .outerjoin(LLMRequest, LLMRequest.id == Candidate.request_id)
        .where(Task.id.in_(list(ids)))
        .order_by(Task.id)
    )
    conn = session.connection()  # Core execution: no ORM result processing for read-only rows
    found = conn.execute(query).all()
    instances: dict[int, list[ExportInstance]] = {}
    for task_id, inp, out in conn.execute(
        select(Instance.task_id, Instance.input, Instance.output)
        .where(Instance.task_id.in_(list(ids)))
        .order_by(Instance.task_id, Instance.position)
    ):
        instances.setdefault(task_id, []).append(ExportInstance(inp, out))
    return [TaskRow(*row[:10], tuple(instances.get(row[0], ()))) for row in found]


def list_tasks(session: Session, f: TaskFilter, page: Page = Page()) -> list[TaskRow]:
    """The tasks of ``f.pool`` matching ``f``, in id order, sliced by ``page``."""
    pool_id = pool_id_of(session, f.pool)
    return rows_by_id(session, list(session.scalars(select_task_ids(f, pool_id, page))))


def count_tasks(session: Session, f: TaskFilter) -> int:
    """How many tasks match ``f`` (ignores pagination)."""
    pool_id = pool_id_of(session, f.pool)
    return session.scalar(select(func.count()).select_from(Task).where(*task_conditions(f, pool_id))) or 0


def matching_ids(session: Session, f: TaskFilter) -> list[int]:
    """Every matching task id, in order (what a seeded train/test split needs up front)."""
    return list(session.scalars(select_task_ids(f, pool_id_of(session, f.pool))))


def export_task(row: TaskRow) -> ExportTask:
    """The export record of a listed task."""
    return ExportTask(
        row.id,
        row.instruction,
        row.origin,
        row.is_classification,
        row.instances,
        round_id=row.round_id,
        model=row.model,
        nearest_score=row.nearest_score,
    )


def iter_export_tasks(session: Session, f: TaskFilter, page_size: int = EXPORT_PAGE) -> Iterator[ExportTask]:
    """Every matching task as an export record, read in keyset pages of ``page_size``."""
    pool_id = pool_id_of(session, f.pool)
    last = 0
    while True:
        ids = list(session.scalars(select_task_ids(f, pool_id, Page(limit=page_size, after_id=last))))
        if not ids:
            return
        for row in rows_by_id(session, ids):
            yield export_task(row)
        last = ids[-1]


@dataclass(frozen=True)
class RoundRow:
    """One round of a pool as the round list shows it."""

    id: int
    status: str
    mode: str
    target: int
    end_reason: str | None
    created_at: datetime
    finished_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields (times as ISO 8601)."""
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        out["finished_at"] = self.finished_at.isoformat() if self.finished_at else None
        return out


def list_rounds(session: Session, pool: str) -> list[RoundRow]:
    """The rounds of ``pool``, newest first."""
    pool_id = pool_id_of(session, pool)
    rounds = session.scalars(select(Round).where(Round.pool_id == pool_id).order_by(Round.id.desc()))
    return [
        RoundRow(r.id, r.status, r.mode, r.target, r.end_reason, r.created_at, r.finished_at) for r in rounds
    ]
