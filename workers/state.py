"""A fleet round's state read from the database, and how much generation it still needs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db import repository as repo
from generator.db.models import Candidate, LLMRequest, Round, Task
from generator.rounds.runner import round_limit_reached, tokens_used

OPEN_STATUSES = (repo.PENDING_CLASSIFICATION, repo.PENDING_INSTANCES)
# A round whose last FAILURE_WINDOW requests all failed (after the client's own retries) fails:
# the endpoint is down or refuses us, and generating more would only repeat that.
FAILURE_WINDOW = 8
ITEMS_PER_REQUEST_GUESS = 5.0  # before the round has its own figures (the prompt asks for ~8)


@dataclass
class RoundState:
    """Counts of one round, each group read in one statement (so consistent within the group)."""

    round_id: int
    status: str
    target: int
    tasks: dict[str, int] = field(default_factory=dict)
    candidates: dict[str, int] = field(default_factory=dict)
    generate_requests: int = 0
    limit: str | None = None   # "budget" | "deadline" once reached
    failing: bool = False

    @property
    def live(self) -> int:
        return sum(self.tasks.get(s, 0) for s in repo.LIVE_STATUSES)

    @property
    def open(self) -> int:
        return sum(self.tasks.get(s, 0) for s in OPEN_STATUSES)

    @property
    def done(self) -> bool:
        """Target reached and every admitted task classified and given instances."""
        return self.live >= self.target and self.open == 0

    def generate_wanted(self, cap: int) -> int:
        """Generate requests to keep in flight: enough for the shortfall at the round's observed yield.

        Yield per request = candidates per request x share admitted x share keeping instances;
        pending candidates count at that yield. Capped at ``cap``, so the surplus generated past
        the target is bounded by ``cap`` requests.
        """
        need = self.target - self.live
        if need <= 0:
            return 0
        admitted, rejected = self.candidates.get("admitted", 0), self.candidates.get("rejected", 0)
        accept = admitted / (admitted + rejected) if admitted + rejected >= 20 else 1.0
        ended = self.live + self.tasks.get(repo.NO_INSTANCES, 0)
        keep = self.live / ended if ended >= 10 else 1.0
        per_request = (sum(self.candidates.values()) / self.generate_requests if self.generate_requests >= 3
                       else ITEMS_PER_REQUEST_GUESS)
        shortfall = need - self.candidates.get("pending", 0) * accept * keep
        if shortfall <= 0:
            return 0
        return min(cap, math.ceil(shortfall / max(0.25, per_request * accept * keep)))


def _grouped(session: Session, column: Any, round_column: Any, round_id: int) -> dict[str, int]:
    rows = session.execute(
        select(column, func.count()).where(round_column == round_id).group_by(column)
    ).all()
    return {str(k): int(v) for k, v in rows}


def task_counts(session: Session, round_id: int) -> dict[str, int]:
    """The round's machine tasks by status, in one statement."""
    return _grouped(session, Task.status, Task.round_id, round_id)


def load_state(session: Session, round_id: int, *, full: bool = False) -> RoundState | None:
    """The round's state, or None if there is no such round; ``full`` also checks recent failures."""
    rnd = session.get(Round, round_id)
    if rnd is None:
        return None
    state = RoundState(round_id, rnd.status, rnd.target)
    if rnd.status != "running":
        return state
    state.tasks = task_counts(session, round_id)
    state.candidates = _grouped(session, Candidate.status, Candidate.round_id, round_id)
    state.generate_requests = int(session.scalar(
        select(func.count()).where(LLMRequest.round_id == round_id, LLMRequest.stage == "generate")
    ) or 0)
    used = tokens_used(session, round_id) if rnd.budget_tokens is not None else 0
    state.limit = round_limit_reached(rnd, used, datetime.now(UTC))
    if full:
        errors = list(session.scalars(
            select(LLMRequest.error).where(LLMRequest.round_id == round_id)
            .order_by(LLMRequest.id.desc()).limit(FAILURE_WINDOW)
        ))
        state.failing = len(errors) == FAILURE_WINDOW and all(e is not None for e in errors)
    return state
