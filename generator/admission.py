"""Admission of candidate instructions: the paper's filters, then exact ROUGE-L novelty.

Admission is the one serialized step: whoever runs it (the in-process runner, or the single
consumer of the fleet's ``admit`` queue) holds a :class:`PoolIndex` and is the only writer
of machine tasks, so the pool always equals some sequential admission order.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from generator.db import repository as repo
from generator.db.models import Candidate, Round, Task
from generator.filters import filter_instruction
from generator.novelty import NoveltyIndex
from generator.params import GenerationParams
from generator.records import Reason, Rejection, Stage


class PoolIndex:
    """The novelty index of one pool, mapping index positions to task ids; refreshed by task id."""

    def __init__(self, pool_id: int, threshold: float) -> None:
        self.pool_id = pool_id
        self.index = NoveltyIndex(threshold=threshold)
        self.task_ids: list[int] = []
        self.hashes: set[str] = set()
        self.last_task_id = 0

    def refresh(self, session: Session) -> int:
        """Add pool tasks newer than the last one seen (in id order); return how many were added."""
        rows = session.execute(
            select(Task.id, Task.instruction, Task.instruction_hash)
            .where(Task.pool_id == self.pool_id, Task.id > self.last_task_id)
            .order_by(Task.id)
        ).all()
        for task_id, text, key in rows:
            self.add_task(task_id, text, key)
        return len(rows)

    def add_task(self, task_id: int, text: str, key: str) -> None:
        """Index one task (the caller guarantees ids arrive in increasing order)."""
        self.index.add(text)
        self.task_ids.append(task_id)
        self.hashes.add(key)
        self.last_task_id = max(self.last_task_id, task_id)


@dataclass
class AdmissionResult:
    """What one admission pass did."""

    admitted: list[int]
    rejected: int
    left_pending: int


def judge(
    text: str, index: PoolIndex, params: GenerationParams
) -> tuple[Rejection | None, int | None, float | None]:
    """Filters then novelty for one text: (rejection or None, nearest task id, nearest score)."""
    rejection = filter_instruction(text, params)
    if rejection is not None:
        return rejection, None, None
    if repo.instruction_hash(text) in index.hashes:
        return (
            Rejection(Stage.NOVELTY, Reason.TOO_SIMILAR, text, "exact duplicate of a pool instruction"),
            None,
            None,
        )
    verdict = index.index.check(text)
    if not verdict.novel and verdict.nearest is not None:
        near = verdict.nearest
        detail = (
            f"ROUGE-L {near.score:.4f} >= {params.rouge_threshold} with task {index.task_ids[near.index]}"
        )
        rejection = Rejection(Stage.NOVELTY, Reason.TOO_SIMILAR, text, detail, near.text, near.score)
        return rejection, index.task_ids[near.index], near.score
    nearest = index.index.nearest(text, 1)
    if nearest:
        return None, index.task_ids[nearest[0].index], nearest[0].score
    return None, None, None


def admit_pending(
    session: Session, rnd: Round, index: PoolIndex, params: GenerationParams, live: int
) -> AdmissionResult:
    """Admit the round's pending candidates in id order until ``rnd.target`` live tasks exist.

    ``live`` is the round's current count of live machine tasks. The caller commits. The pool lock
    (:func:`repository.lock_pool`) is taken before the index is refreshed, so concurrent admitters
    (fleet workers, an in-process runner) take turns and each sees the others' admissions.
    """
    repo.lock_pool(session, rnd.pool_id)
    index.refresh(session)
    pending = repo.pending_candidates(session, rnd.id)
    admitted: list[int] = []
    rejected = 0
    for cand in pending:
        if live + len(admitted) >= rnd.target:
            break
        rejection, near_id, near_score = judge(cand.text, index, params)
        if rejection is not None:
            repo.add_rejection(
                session,
                rnd.pool_id,
                rnd.id,
                rejection,
                candidate_id=cand.id,
                request_id=cand.request_id,
                nearest_task_id=near_id,
            )
            cand.status = "rejected"
            rejected += 1
            continue
        task = repo.admit(session, cand, nearest_task_id=near_id, nearest_score=near_score)
        index.add_task(task.id, task.instruction, task.instruction_hash)
        admitted.append(task.id)
    session.flush()
    return AdmissionResult(admitted, rejected, len(pending) - rejected - len(admitted))


def retire_surplus(session: Session, round_id: int) -> None:
    """Mark candidates left pending when a round ends as surplus (generated, never judged)."""
    for cand in session.scalars(
        select(Candidate).where(Candidate.round_id == round_id, Candidate.status == "pending")
    ):
        cand.status = "surplus"
    session.flush()
