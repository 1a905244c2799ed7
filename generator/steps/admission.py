"""Admission of candidate instructions: the paper's filters, then exact ROUGE-L novelty.

Admission is the one serialized step: every admitter (the in-process runner, any consumer of
the fleet's ``admit`` queue) takes the pool lock, refreshes its :class:`PoolIndex` with the
tasks committed since it last looked, and only then judges, so the pool always equals some
sequential admission order.

One pass judges the round's pending candidates one by one against the index (which grows
with each admitted one), then writes the whole pass with a few Core statements: one multi-row
task insert, two candidate status updates and one rejection insert. The ORM's per-object
flush cost more CPU than the judging itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from generator.db import candidates as cands
from generator.db import models, rows
from generator.db import repository as repo
from generator.db.candidates import CandidateRow
from generator.db.models import Round, utcnow
from generator.db.statuses import CandidateStatus, Origin, TaskStatus
from generator.novelty import IndexConfig, NoveltyIndex
from generator.records import Reason, Rejection, Stage
from generator.selfinstruct.filters import filter_instruction
from generator.selfinstruct.params import GenerationParams


class PoolIndex:
    """The novelty index of one pool, mapping index positions to task ids; refreshed by task id.

    A position added by :meth:`add_text` has no task id until :meth:`assign` gives it one (the
    task row is inserted after the pass that admitted it).
    """

    def __init__(self, pool_id: int, threshold: float, config: IndexConfig = IndexConfig()) -> None:
        self.pool_id = pool_id
        self.index = NoveltyIndex(threshold, config=config)
        self.task_ids: list[int | None] = []
        self.hashes: set[str] = set()
        self.last_task_id = 0

    def refresh(self, session: Session) -> int:
        """Add pool tasks newer than the last one seen (in id order); return how many were added."""
        found = cands.pool_tasks_after(session, self.pool_id, self.last_task_id)
        for task_id, text, key in found:
            self.assign(self.add_text(text, key), task_id)
        return len(found)

    def add_text(self, text: str, key: str) -> int:
        """Index one instruction (its task id to be assigned); returns its position."""
        self.index.add(text)
        self.task_ids.append(None)
        self.hashes.add(key)
        return len(self.task_ids) - 1

    def assign(self, position: int, task_id: int) -> None:
        """Record the task id of an indexed position (ids arrive in increasing order)."""
        self.task_ids[position] = task_id
        self.last_task_id = max(self.last_task_id, task_id)


@dataclass(frozen=True)
class Judgement:
    """How one candidate fared: a filter rejection, or novelty with the nearest index position."""

    rejection: Rejection | None = None  # a filter rejection, or an exact duplicate
    too_similar: bool = False
    nearest: int | None = None  # index position of the nearest pool instruction
    score: float | None = None
    nearest_text: str | None = None

    @property
    def admitted(self) -> bool:
        return self.rejection is None and not self.too_similar


def judge(text: str, index: PoolIndex, params: GenerationParams) -> Judgement:
    """Filters, then exact duplicate, then ROUGE-L novelty (with the nearest match) for one text."""
    rejection = filter_instruction(text, params)
    if rejection is not None:
        return Judgement(rejection)
    if repo.instruction_hash(text) in index.hashes:
        detail = "exact duplicate of a pool instruction"
        return Judgement(Rejection(Stage.NOVELTY, Reason.TOO_SIMILAR, text, detail))
    verdict = index.index.check(text)
    if not verdict.novel and verdict.nearest is not None:
        near = verdict.nearest
        return Judgement(None, True, near.index, near.score, near.text)
    nearest = index.index.nearest(text, 1)
    if nearest:
        return Judgement(None, False, nearest[0].index, nearest[0].score, nearest[0].text)
    return Judgement()


@dataclass
class AdmissionResult:
    """What one admission pass did."""

    admitted: list[int]
    rejected: int
    left_pending: int


def admit_pending(
    session: Session, rnd: Round, index: PoolIndex, params: GenerationParams, live: int
) -> AdmissionResult:
    """Admit the round's pending candidates in id order until ``rnd.target`` live tasks exist.

    ``live`` is the round's current count of live machine tasks. The caller commits (and, if the
    transaction fails, must drop ``index``: it holds the pass's admissions). The pool lock
    (:func:`repository.lock_pool`) is taken before the index is refreshed, so concurrent
    admitters (fleet workers, an in-process runner) take turns and each sees the others' admissions.
    """
    repo.lock_pool(session, rnd.pool_id)
    index.refresh(session)
    pending = cands.pending_candidates(session, rnd.id)
    admitted: list[tuple[CandidateRow, int, Judgement]] = []
    rejected: list[tuple[CandidateRow, Judgement]] = []
    for cand in pending:
        if live + len(admitted) >= rnd.target:
            break
        verdict = judge(cand.text, index, params)
        if verdict.admitted:
            admitted.append((cand, index.add_text(cand.text, repo.instruction_hash(cand.text)), verdict))
        else:
            rejected.append((cand, verdict))
    task_ids = _insert_tasks(session, rnd, index, admitted)
    cands.set_candidate_status(session, [cand.id for cand, _, _ in admitted], CandidateStatus.ADMITTED)
    cands.set_candidate_status(session, [cand.id for cand, _ in rejected], CandidateStatus.REJECTED)
    rejections = [_rejection_row(rnd, index, params, cand, verdict) for cand, verdict in rejected]
    rows.insert_rows(session, models.Rejection, rejections)
    return AdmissionResult(task_ids, len(rejected), len(pending) - len(rejected) - len(admitted))


def _nearest_id(index: PoolIndex, verdict: Judgement) -> int | None:
    return index.task_ids[verdict.nearest] if verdict.nearest is not None else None


def _insert_tasks(
    session: Session, rnd: Round, index: PoolIndex, admitted: list[tuple[CandidateRow, int, Judgement]]
) -> list[int]:
    """Insert the pass's tasks in admission order; give their index positions their ids."""
    if not admitted:
        return []
    now = utcnow()
    values = [
        {"pool_id": rnd.pool_id, "round_id": rnd.id, "candidate_id": cand.id, "instruction": cand.text,
         "instruction_hash": repo.instruction_hash(cand.text), "origin": Origin.MACHINE,
         "status": TaskStatus.PENDING_CLASSIFICATION, "classification_attempts": 0,
         "nearest_task_id": _nearest_id(index, verdict), "nearest_score": verdict.score, "created_at": now}
        for cand, _, verdict in admitted
    ]
    ids = cands.insert_tasks(session, values)
    for (_, position, _), task_id in zip(admitted, ids, strict=True):
        index.assign(position, task_id)
    # A task whose nearest match was admitted earlier in this pass learns that task's id now.
    late = {task_id: _nearest_id(index, verdict)
            for (_, _, verdict), task_id, row in zip(admitted, ids, values, strict=True)
            if verdict.nearest is not None and row["nearest_task_id"] is None}
    cands.set_nearest_task_ids(session, late)
    return ids


def _rejection_row(
    rnd: Round, index: PoolIndex, params: GenerationParams, cand: CandidateRow, verdict: Judgement
) -> dict[str, object]:
    """The rejection of a candidate; a too-similar one names its blocker (known by now)."""
    nearest_id = _nearest_id(index, verdict)
    rejection = verdict.rejection
    if rejection is None:
        detail = f"ROUGE-L {verdict.score:.4f} >= {params.rouge_threshold} with task {nearest_id}"
        rejection = Rejection(Stage.NOVELTY, Reason.TOO_SIMILAR, cand.text, detail,
                              verdict.nearest_text, verdict.score)
    return rows.rejection_row(rnd.pool_id, rnd.id, rejection, candidate_id=cand.id,
                              request_id=cand.request_id, nearest_task_id=nearest_id)

