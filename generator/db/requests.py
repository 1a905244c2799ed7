"""Queries on ``llm_requests``: what a round spent and how its latest requests went."""

from __future__ import annotations

from datetime import datetime

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


def last_request_id(session: Session, round_id: int) -> int:
    """The id of the round's newest request (0 when it has none): where a resumed run starts counting."""
    return int(session.scalar(select(func.max(LLMRequest.id)).where(LLMRequest.round_id == round_id)) or 0)


def recent_errors(session: Session, round_id: int, limit: int, after_id: int = 0) -> tuple[str | None, ...]:
    """The ``error`` of the round's newest ``limit`` requests (any stage) with an id above ``after_id``,
    newest first; None = success.
    """
    return tuple(
        session.scalars(
            select(LLMRequest.error)
            .where(LLMRequest.round_id == round_id, LLMRequest.id > after_id)
            .order_by(LLMRequest.id.desc())
            .limit(limit)
        )
    )


def recent_errors_by_stage(
    session: Session, round_id: int, limit: int, after_id: int = 0
) -> dict[str, tuple[str | None, ...]]:
    """:func:`recent_errors` of each LLM stage that has requests, newest first."""
    out = {}
    for stage in (Stage.GENERATE, Stage.CLASSIFY, Stage.INSTANCES, Stage.TAG):
        errors = tuple(
            session.scalars(
                select(LLMRequest.error)
                .where(LLMRequest.round_id == round_id, LLMRequest.stage == stage, LLMRequest.id > after_id)
                .order_by(LLMRequest.id.desc())
                .limit(limit)
            )
        )
        if errors:
            out[str(stage)] = errors
    return out


def generate_requests(session: Session, round_id: int) -> int:
    """How many generate requests the round has sent."""
    return int(
        session.scalar(
            select(func.count()).where(LLMRequest.round_id == round_id, LLMRequest.stage == Stage.GENERATE)
        )
        or 0
    )


def fruitless_generates(session: Session, round_id: int, limit: int, after_id: int = 0) -> int:
    """Newest generate requests of the round in a row (up to ``limit``) none of whose candidates was
    admitted; a request with a candidate still pending ends the run (its outcome is not known yet).
    Only requests with an id above ``after_id`` count.
    """
    ids = list(
        session.scalars(
            select(LLMRequest.id)
            .where(
                LLMRequest.round_id == round_id, LLMRequest.stage == Stage.GENERATE, LLMRequest.id > after_id
            )
            .order_by(LLMRequest.id.desc())
            .limit(limit)
        )
    )
    if not ids:
        return 0
    hopeful = set(
        session.scalars(
            select(Candidate.request_id).where(
                Candidate.request_id.in_(ids),
                Candidate.status.in_((CandidateStatus.ADMITTED, CandidateStatus.PENDING)),
            )
        )
    )
    fruitless = 0
    for request_id in ids:
        if request_id in hopeful:
            break
        fruitless += 1
    return fruitless


def answered_since(session: Session, round_id: int, stage: str, since: datetime) -> int:
    """How many of the round's ``stage`` requests created after ``since`` got an answer (no error)."""
    return session.scalar(select(func.count()).where(
        LLMRequest.round_id == round_id, LLMRequest.stage == stage,
        LLMRequest.created_at > since, LLMRequest.error.is_(None))) or 0
