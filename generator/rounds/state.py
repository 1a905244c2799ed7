"""Reading a round's :class:`~generator.rounds.policy.RoundState` from the database, for both executors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from generator.db import counts, requests, tags
from generator.db.models import Round
from generator.db.statuses import LIVE_STATUSES, OPEN_STATUSES, CandidateStatus, RoundStatus, TaskStatus
from generator.rounds import policy


@dataclass(frozen=True, slots=True)
class Observed:
    """A round as read now: its stored status and, while it runs, the policy's view of it."""

    round_id: int
    status: str
    state: policy.RoundState

    @property
    def running(self) -> bool:
        return self.status == RoundStatus.RUNNING

    @property
    def pending_candidates(self) -> int:
        return self.state.produced.pending


def observe(session: Session, rnd: Round, now: datetime, *, full: bool = True, stop_requested: bool = False,
            stage_failures: int = 0, last_stage_failure: str = "", after_request_id: int = 0) -> Observed:
    """The round's state; ``full`` also reads what the failure rule needs (recent requests, progress).

    Only requests with an id above ``after_request_id`` feed the failure rule: a resumed round is
    judged by what happened since it was resumed, not by the failures that ended it before.
    """
    tasks = counts.task_counts(session, rnd.id)
    cands = counts.candidate_counts(session, rnd.id)
    produced = policy.Yield(
        admitted=cands.get(CandidateStatus.ADMITTED, 0), rejected=cands.get(CandidateStatus.REJECTED, 0),
        pending=cands.get(CandidateStatus.PENDING, 0), no_instances=tasks.get(TaskStatus.NO_INSTANCES, 0),
        generate_requests=requests.generate_requests(session, rnd.id),
    )
    used = requests.tokens_used(session, rnd.id) if rnd.budget_tokens is not None else 0
    state = policy.RoundState(
        target=rnd.target,
        live=sum(tasks.get(s, 0) for s in LIVE_STATUSES),
        open_tasks=sum(tasks.get(s, 0) for s in OPEN_STATUSES),
        now=now, tokens_used=used, budget_tokens=rnd.budget_tokens, deadline=rnd.deadline, produced=produced,
        recent_errors=(requests.recent_errors(session, rnd.id, policy.RECENT_REQUESTS, after_request_id)
                       if full else ()),
        stage_errors=(requests.recent_errors_by_stage(session, rnd.id, policy.PERMANENT_REFUSALS,
                                                      after_request_id) if full else {}),
        fruitless_generates=(requests.fruitless_generates(session, rnd.id, policy.FRUITLESS_GENERATES,
                                                          after_request_id) if full else 0),
        stage_failures=stage_failures, last_stage_failure=last_stage_failure, stop_requested=stop_requested,
        untagged=tags.count_round_untagged(session, rnd.id) if rnd.tag else 0,
    )
    return Observed(rnd.id, rnd.status, state)
