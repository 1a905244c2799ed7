"""Queries on ``llm_requests``: what a round spent and how its latest requests went."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import Candidate, LLMRequest
from generator.db.statuses import CandidateStatus
from generator.records import Stage


def tokens_used(session: Session, round_id: int) -> int:
    """Prompt + completion tokens spent by the round so far."""
    used = session.scalar(
        select(func.sum(LLMRequest.prompt_tokens + LLMRequest.completion_tokens)).where(
            LLMRequest.round_id == round_id
        )
    )
    return int(used or 0)


def recent_errors(session: Session, round_id: int, limit: int) -> tuple[str | None, ...]:
    """The ``error`` of the round's newest ``limit`` requests (any stage), newest first; None = success."""
    return tuple(session.scalars(
        select(LLMRequest.error).where(LLMRequest.round_id == round_id)
        .order_by(LLMRequest.id.desc()).limit(limit)
    ))


def generate_requests(session: Session, round_id: int) -> int:
    """How many generate requests the round has sent."""
    return int(session.scalar(
        select(func.count()).where(LLMRequest.round_id == round_id, LLMRequest.stage == Stage.GENERATE)
    ) or 0)


def fruitless_generates(session: Session, round_id: int, limit: int) -> int:
    """Newest generate requests of the round in a row (up to ``limit``) none of whose candidates was
    admitted; a request with a candidate still pending ends the run (its outcome is not known yet).
    """
    ids = list(session.scalars(
        select(LLMRequest.id).where(LLMRequest.round_id == round_id, LLMRequest.stage == Stage.GENERATE)
        .order_by(LLMRequest.id.desc()).limit(limit)
    ))
    if not ids:
        return 0
    hopeful = set(session.scalars(
        select(Candidate.request_id).where(
            Candidate.request_id.in_(ids),
            Candidate.status.in_((CandidateStatus.ADMITTED, CandidateStatus.PENDING)),
        )
    ))
    fruitless = 0
    for request_id in ids:
        if request_id in hopeful:
            break
        fruitless += 1
    return fruitless
