"""Repository functions for InsTag: taggings and raw tags, vocabulary versions, mappings and metrics.

Every function takes a ``session`` and never commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from generator.db.models import Instance, TagMapping, TagMetric, TagVocabulary, Task, TaskTag, TaskTagging
from generator.db.statuses import TaggingStatus, TaskStatus
from generator.errors import NotFoundError
from generator.instag.metrics import GroupMetrics
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, TaskTags, Vocabulary

TAGGED = TaggingStatus.TAGGED
FAILED = TaggingStatus.FAILED


@dataclass(frozen=True, slots=True)
class UntaggedTask:
    """A complete task without a tagging yet: what its query is built from (a driver StepTask)."""

    task_id: int
    pool_id: int
    round_id: int | None
    instruction: str
    first_input: str

    @property
    def id(self) -> int:
        return self.task_id


def untagged_tasks(session: Session, pool_id: int, round_id: int | None = None) -> list[UntaggedTask]:
    """Complete tasks (seeds included) of the pool (or one round) with no tagging row, by id."""
    statement = _untagged().where(Task.pool_id == pool_id)
    if round_id is not None:
        statement = statement.where(Task.round_id == round_id)
    return _read(session, statement)


def untagged_among(session: Session, task_ids: Sequence[int]) -> list[UntaggedTask]:
    """The complete tasks among ``task_ids`` with no tagging row, by id."""
    return _read(session, _untagged().where(Task.id.in_(list(task_ids)))) if task_ids else []


def round_untagged_ids(session: Session, round_id: int) -> list[int]:
    """Ids of the round's complete tasks with no tagging row (what a tagging fleet round still owes)."""
    return list(session.scalars(select(Task.id).where(*_round_untagged(round_id)).order_by(Task.id)))


def count_round_untagged(session: Session, round_id: int) -> int:
    """How many of the round's complete tasks have no tagging row."""
    return int(session.scalar(select(func.count()).select_from(Task).where(*_round_untagged(round_id))) or 0)


def _round_untagged(round_id: int) -> tuple[ColumnElement[bool], ...]:
    tagged = select(TaskTagging.id).where(TaskTagging.task_id == Task.id).exists()
    return (Task.round_id == round_id, Task.status == TaskStatus.COMPLETE, ~tagged)


def _untagged() -> UntaggedRows:
    first = (
        select(Instance.input)
        .where(Instance.task_id == Task.id)
        .order_by(Instance.position)
        .limit(1)
        .correlate(Task)
        .scalar_subquery()
    )
    return (
        select(Task.id, Task.pool_id, Task.round_id, Task.instruction, first)
        .outerjoin(TaskTagging, TaskTagging.task_id == Task.id)
        .where(Task.status == TaskStatus.COMPLETE, TaskTagging.id.is_(None))
        .order_by(Task.id)
    )


UntaggedRows = Select[int, int, int | None, str, str | None]


def _read(session: Session, statement: UntaggedRows) -> list[UntaggedTask]:
    return [UntaggedTask(r[0], r[1], r[2], r[3], r[4] or "") for r in session.execute(statement)]


def tagged_tasks(session: Session, pool_id: int) -> list[TaskTags]:
    """Every tagged task of the pool with its raw tags, round and origin, by task id."""
    rows = session.execute(
        select(Task.id, Task.round_id, Task.origin, TaskTag.tag)
        .join(TaskTag, TaskTag.task_id == Task.id)
        .where(Task.pool_id == pool_id)
        .order_by(Task.id, TaskTag.position)
    )
    grouped: dict[int, tuple[int | None, str, list[str]]] = {}
    for task_id, round_id, origin, tag in rows:
        grouped.setdefault(task_id, (round_id, origin, []))[2].append(tag)
    return [TaskTags(task_id, tuple(tags), round=r, origin=o) for task_id, (r, o, tags) in grouped.items()]


def tagging_counts(session: Session, pool_id: int) -> dict[str, int]:
    """Taggings by status (tagged, failed) in the pool."""
    rows = session.execute(
        select(TaskTagging.status, func.count())
        .where(TaskTagging.pool_id == pool_id)
        .group_by(TaskTagging.status)
    )
    return {status: int(n) for status, n in rows}


def latest_vocabulary_tasks(session: Session, pool_id: int) -> int | None:
    """How many tagged tasks the pool's latest vocabulary version was built from (None: no version)."""
    return session.scalar(select(TagVocabulary.tasks).where(TagVocabulary.pool_id == pool_id)
                          .order_by(TagVocabulary.id.desc()).limit(1))


def save_vocabulary(session: Session, pool_id: int, vocabulary: Vocabulary, embedder: str, tasks: int) -> int:
    """Store a vocabulary version with its raw -> normalized mapping; returns its id."""
    row = TagVocabulary(
        pool_id=pool_id,
        params=vocabulary.params.to_dict(),
        stage_counts=[[c.stage, c.count] for c in vocabulary.counts],
        embedder=embedder,
        tasks=tasks,
        size=vocabulary.size,
    )
    session.add(row)
    session.flush()
    session.bulk_insert_mappings(
        TagMapping,
        [  # type: ignore[arg-type]
            {"vocabulary_id": row.id, "raw": raw, "normalized": normalized}
            for raw, normalized in sorted(vocabulary.mapping.items())
        ],
    )
    return row.id


def load_vocabulary(
    session: Session, pool_id: int, vocabulary_id: int | None = None, tasks: Sequence[TaskTags] = ()
) -> tuple[int, Vocabulary]:
    """A stored vocabulary version (the pool's latest by default); NotFoundError when there is none.

    ``representatives`` are recounted from ``tasks`` (the pool's tagged tasks) when given."""
    statement = select(TagVocabulary).where(TagVocabulary.pool_id == pool_id)
    if vocabulary_id is not None:
        statement = statement.where(TagVocabulary.id == vocabulary_id)
    row = session.scalar(statement.order_by(TagVocabulary.id.desc()).limit(1))
    if row is None:
        raise NotFoundError("no tag vocabulary for this pool yet (run `selfinstruct tags normalize`)")
    mapping = {
        raw: normalized
        for raw, normalized in session.execute(
            select(TagMapping.raw, TagMapping.normalized).where(TagMapping.vocabulary_id == row.id)
        ).tuples()
    }
    counts: dict[str, int] = dict.fromkeys(mapping.values(), 0)
    for task in tasks:
        for tag in {mapping[t] for t in task.tags if t in mapping}:
            counts[tag] += 1
    vocabulary = Vocabulary(
        InsTagParams.from_dict(row.params),
        tuple(StageCount(s, int(c)) for s, c in row.stage_counts),
        mapping,
        counts,
    )
    return row.id, vocabulary


def save_metrics(session: Session, vocabulary_id: int, groups: Sequence[GroupMetrics]) -> None:
    """Store one metrics row per group, naming the vocabulary version they were computed with."""
    for group in groups:
        m, b = group.metrics, group.baseline
        session.add(
            TagMetric(
                vocabulary_id=vocabulary_id,
                round_id=group.round,
                origin=group.origin,
                tasks=m.tasks,
                unique_tags=m.unique_tags,
                coverage=m.coverage,
                mean_tags_per_task=m.mean_tags_per_task,
                entropy=m.entropy,
                baseline={
                    "tasks": b.tasks,
                    "unique_tags": b.unique_tags,
                    "coverage": b.coverage,
                    "mean_tags_per_task": b.mean_tags_per_task,
                    "entropy": b.entropy,
                },
            )
        )
    session.flush()
