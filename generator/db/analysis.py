"""Reads for the pool report and the quality indicators, and their storage (``task_quality``).

Every function takes a ``session`` and never commits. Counts are done in SQL (GROUP BY) so a 50K-task
pool is read in a handful of queries; texts come out only where the report shows them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from generator.analysis import tagrounds as analysis_tags
from generator.analysis.poolstats import TaskView
from generator.analysis.reportdata import (
    FunnelStep,
    PoolSummary,
    RejectionCount,
    RoundUsage,
    SimilarPair,
)
from generator.analysis.snapshot import PoolSnapshot
from generator.analysis.tagrounds import TagSection
from generator.db import tags
from generator.db.models import (
    Candidate,
    Instance,
    LLMRequest,
    Pool,
    Rejection,
    Round,
    Task,
)
from generator.db.quality import stored_indicators
from generator.db.statuses import Origin, TaskStatus
from generator.errors import NotFoundError
from generator.records import Instance as InstanceRecord

EXAMPLES_PER_REASON = 3
SIMILAR_PAIRS = 20


def task_views(session: Session, pool_id: int) -> tuple[TaskView, ...]:
    """Every task of the pool with its instances, in admission order."""
    by_task: dict[int, list[InstanceRecord]] = defaultdict(list)
    rows = session.execute(
        select(Instance.task_id, Instance.input, Instance.output)
        .join(Task, Task.id == Instance.task_id)
        .where(Task.pool_id == pool_id)
        .order_by(Instance.task_id, Instance.position)
    )
    for task_id, input_text, output in rows:
        by_task[task_id].append(InstanceRecord(input_text, output))
    tasks = session.execute(
        select(Task.id, Task.origin, Task.instruction, Task.is_classification)
        .where(Task.pool_id == pool_id)
        .order_by(Task.id)
    )
    return tuple(TaskView(i, o, text, c, tuple(by_task.get(i, ()))) for i, o, text, c in tasks)


def _scalar(session: Session, statement: Any) -> int:
    return int(session.execute(statement).scalar() or 0)


def pool_summary(session: Session, pool: Pool) -> PoolSummary:
    """Headline counts of the pool: tasks by origin, instances, classification, requests, tokens, cost."""
    by_origin = dict(
        session.execute(
            select(Task.origin, func.count()).where(Task.pool_id == pool.id).group_by(Task.origin)
        ).all()
    )
    classification = dict(
        session.execute(
            select(Task.is_classification, func.count())
            .where(Task.pool_id == pool.id)
            .group_by(Task.is_classification)
        ).all()
    )
    requests = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(LLMRequest.prompt_tokens), 0),
            func.coalesce(func.sum(LLMRequest.completion_tokens), 0),
            func.sum(LLMRequest.cost_usd),
        ).where(LLMRequest.pool_id == pool.id)
    ).one()
    return PoolSummary(
        name=pool.name,
        seed_tasks=int(by_origin.get(Origin.SEED, 0)),
        machine_tasks=int(by_origin.get(Origin.MACHINE, 0)),
        instances=_scalar(
            session, select(func.count()).select_from(Instance).join(Task).where(Task.pool_id == pool.id)
        ),
        classification_tasks=int(classification.get(True, 0)),
        unclassified_tasks=int(classification.get(None, 0)),
        rounds=_scalar(session, select(func.count()).select_from(Round).where(Round.pool_id == pool.id)),
        requests=int(requests[0]),
        prompt_tokens=int(requests[1]),
        completion_tokens=int(requests[2]),
        cost_usd=float(requests[3]) if requests[3] is not None else None,
        rejections=_scalar(
            session, select(func.count()).select_from(Rejection).where(Rejection.pool_id == pool.id)
        ),
    )


def funnel(session: Session, pool_id: int) -> tuple[FunnelStep, ...]:
    """Instruction candidates parsed, past the filters, admitted (novel), classified, with instances."""
    parsed = _scalar(session, select(func.count()).select_from(Candidate).where(Candidate.pool_id == pool_id))
    filtered = _scalar(
        session,
        select(func.count())
        .select_from(Rejection)
        .where(Rejection.pool_id == pool_id, Rejection.stage == "filter"),
    )
    machine = (select(func.count()).select_from(Task)
               .where(Task.pool_id == pool_id, Task.origin == Origin.MACHINE))
    return (
        FunnelStep("parsed candidates", parsed),
        FunnelStep("passed the filters", parsed - filtered),
        FunnelStep("admitted (ROUGE-L < threshold)", _scalar(session, machine)),
        FunnelStep("classified", _scalar(session, machine.where(Task.is_classification.is_not(None)))),
        FunnelStep("with instances", _scalar(session, machine.where(Task.status == TaskStatus.COMPLETE))),
    )


def rejection_counts(session: Session, pool_id: int, limit: int = 30) -> tuple[RejectionCount, ...]:
    """The most common (stage, reason) pairs with a few example texts each, most common first."""
    groups = session.execute(
        select(Rejection.stage, Rejection.reason, func.count().label("n"))
        .where(Rejection.pool_id == pool_id)
        .group_by(Rejection.stage, Rejection.reason)
        .order_by(func.count().desc(), Rejection.stage, Rejection.reason)
        .limit(limit)
    ).all()
    out = []
    for stage, reason, count in groups:
        examples = session.scalars(
            select(Rejection.text)
            .where(Rejection.pool_id == pool_id, Rejection.stage == stage, Rejection.reason == reason)
            .order_by(Rejection.id)
            .limit(EXAMPLES_PER_REASON)
        ).all()
        out.append(RejectionCount(stage, reason, int(count), tuple(examples)))
    return tuple(out)


def round_usage(session: Session, pool_id: int) -> tuple[RoundUsage, ...]:
    """Requests, tokens, cost and admitted tasks of every round of the pool, oldest first."""
    requests = {
        r[0]: r[1:]
        for r in session.execute(
            select(
                LLMRequest.round_id,
                func.count(),
                func.coalesce(func.sum(LLMRequest.prompt_tokens), 0),
                func.coalesce(func.sum(LLMRequest.completion_tokens), 0),
                func.sum(LLMRequest.cost_usd),
            )
            .where(LLMRequest.pool_id == pool_id)
            .group_by(LLMRequest.round_id)
        )
    }
    admitted = dict(
        session.execute(
            select(Task.round_id, func.count())
            .where(Task.pool_id == pool_id, Task.origin == Origin.MACHINE)
            .group_by(Task.round_id)
        ).all()
    )
    rounds = session.execute(
        select(Round.id, Round.status).where(Round.pool_id == pool_id).order_by(Round.id)
    )
    out = []
    for round_id, status in rounds:
        n, prompt, completion, cost = requests.get(round_id, (0, 0, 0, None))
        out.append(
            RoundUsage(
                round_id,
                status,
                int(admitted.get(round_id, 0)),
                int(n),
                int(prompt),
                int(completion),
                float(cost) if cost is not None else None,
            )
        )
    return tuple(out)


def similar_pairs(session: Session, pool_id: int, limit: int = SIMILAR_PAIRS) -> tuple[SimilarPair, ...]:
    """Admitted machine instructions with the highest ROUGE-L to their nearest pool match at admission."""
    nearest = aliased(Task)
    rows = session.execute(
        select(Task.instruction, nearest.instruction, Task.nearest_score)
        .join(nearest, nearest.id == Task.nearest_task_id)
        .where(Task.pool_id == pool_id, Task.origin == Origin.MACHINE, Task.nearest_score.is_not(None))
        .order_by(Task.nearest_score.desc(), Task.id)
        .limit(limit)
    )
    return tuple(SimilarPair(a, b, float(s)) for a, b, s in rows if s is not None)


def pool_snapshot(session: Session, pool: Pool) -> PoolSnapshot:
    """Everything the report needs about ``pool``, read in one session."""
    return PoolSnapshot(
        summary=pool_summary(session, pool),
        tasks=task_views(session, pool.id),
        funnel=funnel(session, pool.id),
        rejections=rejection_counts(session, pool.id),
        rounds=round_usage(session, pool.id),
        similar_pairs=similar_pairs(session, pool.id),
        indicators=stored_indicators(session, pool.id),
        tags=tag_section(session, pool.id),
        rouge_threshold=float(pool.params.get("rouge_threshold", 0.7)),
    )


def tag_section(session: Session, pool_id: int) -> TagSection:
    """The report's tag section, counted through the pool's latest tag vocabulary (raw tags without one)."""
    tagged = tags.tagged_tasks(session, pool_id)
    if not tagged:
        return analysis_tags.tag_section((), None)
    try:
        vocabulary_id, vocabulary = tags.load_vocabulary(session, pool_id, tasks=tagged)
    except NotFoundError:
        return analysis_tags.tag_section(tagged, None)
    return analysis_tags.tag_section(tagged, vocabulary, vocabulary_id)
