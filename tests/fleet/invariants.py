"""Checks of a pool after fleet rounds: novelty, exactness, no duplicate rows, request accounting."""

from __future__ import annotations

from rouge_score import rouge_scorer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator.db.models import Candidate, Instance, LLMRequest, Rejection, Round, Task
from tests.support.pools import assert_pool_is_novel, attempts_recorded

THRESHOLD = 0.7


def _duplicates(session: Session, *columns: object, where: object = True) -> list[tuple[object, ...]]:
    query = select(*columns, func.count()).where(where).group_by(*columns).having(func.count() > 1)  # type: ignore[arg-type]
    return [tuple(r) for r in session.execute(query).all()]


def assert_no_duplicate_rows(session: Session) -> None:
    """Every unit of work wrote its rows once, however often its message was delivered."""
    assert _duplicates(session, Task.pool_id, Task.instruction_hash) == []
    assert _duplicates(session, Task.candidate_id, where=Task.candidate_id.is_not(None)) == []
    assert _duplicates(session, Candidate.request_id, Candidate.position) == []
    assert _duplicates(session, Instance.task_id, Instance.position) == []
    # A candidate is judged once: at most one rejection, and never both rejected and admitted.
    assert _duplicates(session, Rejection.candidate_id, where=Rejection.candidate_id.is_not(None)) == []
    both = session.scalar(select(func.count()).select_from(Rejection).join(Task, Task.candidate_id ==
                                                                          Rejection.candidate_id))
    assert both == 0
    # Classification and instance outcomes are stored once per task.
    for reason in ("unknown_classification", "no_instances"):
        assert _duplicates(session, Rejection.task_id, where=Rejection.reason == reason) == [], reason
    instance_requests = session.execute(
        select(Rejection.task_id, func.count(func.distinct(Rejection.request_id)))
        .where(Rejection.stage == "instances", Rejection.task_id.is_not(None)).group_by(Rejection.task_id)
    ).all()
    assert all(n <= 1 for _, n in instance_requests), instance_requests
    assert session.scalar(select(func.max(Task.classification_attempts))) in (None, 0, 1, 2)
    # Statuses agree with rows: admitted candidates <-> tasks.
    admitted = session.scalar(select(func.count()).where(Candidate.status == "admitted"))
    machine = session.scalar(select(func.count()).where(Task.origin == "machine"))
    assert admitted == machine


def assert_admission_exact(session: Session) -> None:
    """The pool is what sequential admission produces: novel, and every novelty rejection justified."""
    assert_pool_is_novel(session, THRESHOLD)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    texts = dict(session.execute(select(Task.id, Task.instruction)).all())
    created = dict(session.execute(select(Task.id, Task.created_at)).all())
    for rej in session.scalars(select(Rejection).where(Rejection.reason == "too_similar")):
        if rej.detail.startswith("exact duplicate"):
            assert rej.text in texts.values(), rej.text
            continue
        assert rej.nearest_task_id in texts, rej.id
        score = scorer.score(texts[rej.nearest_task_id], rej.text)["rougeL"].fmeasure
        assert score >= THRESHOLD, (rej.text, texts[rej.nearest_task_id], score)
        assert created[rej.nearest_task_id] <= rej.created_at  # the blocker was in the pool first


def assert_round_completed(session: Session, round_id: int, target: int) -> None:
    """Completed at its target: exactly ``target`` complete tasks, nothing left pending."""
    rnd = session.get(Round, round_id)
    assert rnd is not None
    assert (rnd.status, rnd.end_reason) == ("completed", "target"), (rnd.status, rnd.error)
    by_status = dict(session.execute(
        select(Task.status, func.count()).where(Task.round_id == round_id).group_by(Task.status)
    ).all())
    assert by_status.get("complete") == target, by_status
    assert not (set(by_status) - {"complete", "no_instances"}), by_status
    pending = session.scalar(
        select(func.count()).where(Candidate.round_id == round_id, Candidate.status == "pending")
    )
    assert pending == 0


def lost_requests(session: Session, received: int) -> int:
    """HTTP attempts the endpoint answered that have no llm_requests row (work of killed processes)."""
    recorded = attempts_recorded(session)
    assert recorded <= received, (recorded, received)
    return received - recorded


def failed_requests(session: Session) -> int:
    return int(session.scalar(select(func.count()).where(LLMRequest.error.is_not(None))) or 0)
