"""Where a round's unfinished work waits, by stage, and since when (for ``round status``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import Candidate, LLMRequest, Round, Task
from generator.db.statuses import CandidateStatus, TaskStatus
from generator.db.tags import count_round_untagged


@dataclass(frozen=True)
class StagePending:
    """Items of one stage not done yet; ``oldest_s``: age of the oldest (seconds since it was made)."""

    stage: str
    count: int
    oldest_s: float | None


@dataclass(frozen=True)
class PendingWork:
    """A round's pending items per stage and how long ago its last LLM request finished."""

    stages: list[StagePending]
    last_request_s: float | None

    @property
    def total(self) -> int:
        return sum(s.count for s in self.stages)


def _age(moment: datetime | None, now: datetime) -> float | None:
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0.0, (now - aware).total_seconds())


def pending_work(session: Session, round_id: int, now: datetime | None = None) -> PendingWork:
    """Candidates awaiting admission and tasks awaiting classification / instances (and, with tagging
    on, complete tasks awaiting tags), with ages."""
    now = now or datetime.now(UTC)
    stages = []
    admit = session.execute(
        select(func.count(), func.min(Candidate.created_at)).where(
            Candidate.round_id == round_id, Candidate.status == CandidateStatus.PENDING
        )
    ).one()
    stages.append(StagePending("admit", int(admit[0]), _age(admit[1], now)))
    waiting = (("classify", TaskStatus.PENDING_CLASSIFICATION), ("instances", TaskStatus.PENDING_INSTANCES))
    for stage, status in waiting:
        count, oldest = session.execute(
            select(func.count(), func.min(Task.created_at)).where(
                Task.round_id == round_id, Task.status == status
            )
        ).one()
        stages.append(StagePending(stage, int(count), _age(oldest, now)))
    if session.scalar(select(Round.tag).where(Round.id == round_id)):  # complete tasks waiting for tags
        stages.append(StagePending("tag", count_round_untagged(session, round_id), None))
    last = session.scalar(select(func.max(LLMRequest.created_at)).where(LLMRequest.round_id == round_id))
    return PendingWork(stages, _age(last, now))
