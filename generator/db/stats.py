"""Read-only queries: round progress, pool statistics, listings and export rows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from generator.db.models import Candidate, LLMRequest, Pool, Rejection, Round, Task
from generator.db.readmodels import PoolStats, RequestTotals, TokenTotals
from generator.db.statuses import LIVE_STATUSES, CandidateStatus, Origin, TaskStatus


@dataclass
class RoundCounts:
    """Where a round stands; what `round status` and the progress bar show."""

    round_id: int
    pool: str
    status: str
    end_reason: str | None
    target: int
    admitted: int = 0
    complete: int = 0
    no_instances: int = 0
    pending_candidates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    failed_requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Prompt tokens the endpoint reported as served from its cache (0 when none reported it).
    cached_tokens: int = 0
    cost_usd: float | None = None
    elapsed_s: float = 0.0
    error: str | None = None  # why a failed round failed

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def uncached_prompt_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens

    @property
    def rate_per_min(self) -> float:
        """Completed instructions per minute of wall time since the round started."""
        return 60.0 * self.complete / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(
            tokens=self.tokens,
            uncached_prompt_tokens=self.uncached_prompt_tokens,
            rate_per_min=round(self.rate_per_min, 3),
        )
        return out


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _request_totals(session: Session, where: Any) -> Any:
    """(requests, failed, prompt tokens, completion tokens, cost or None, cached prompt tokens) of the
    matching requests."""
    return session.execute(
        select(
            func.count(),
            func.count(LLMRequest.error),
            func.coalesce(func.sum(LLMRequest.prompt_tokens), 0),
            func.coalesce(func.sum(LLMRequest.completion_tokens), 0),
            func.sum(LLMRequest.cost_usd),
            func.coalesce(func.sum(LLMRequest.cached_tokens), 0),
        ).where(where)
    ).one()


def round_counts(session: Session, round_id: int) -> RoundCounts:
    """Counts for one round, straight from the tables (so every process sees the same numbers)."""
    rnd = session.get(Round, round_id)
    assert rnd is not None, round_id
    pool = session.get(Pool, rnd.pool_id)
    by_status = dict(
        session.execute(
            select(Task.status, func.count()).where(Task.round_id == round_id).group_by(Task.status)
        ).all()
    )
    rejected = dict(
        session.execute(
            select(Rejection.reason, func.count())
            .where(Rejection.round_id == round_id)
            .group_by(Rejection.reason)
        ).all()
    )
    req = _request_totals(session, LLMRequest.round_id == round_id)
    pending = session.scalar(
        select(func.count())
        .where(Candidate.round_id == round_id, Candidate.status == CandidateStatus.PENDING)
    )
    end = _as_utc(rnd.finished_at) if rnd.finished_at else datetime.now(UTC)
    return RoundCounts(
        round_id=rnd.id,
        pool=pool.name if pool else "?",
        status=rnd.status,
        end_reason=rnd.end_reason,
        target=rnd.target,
        admitted=sum(by_status.get(s, 0) for s in LIVE_STATUSES),
        complete=by_status.get(TaskStatus.COMPLETE, 0),
        no_instances=by_status.get(TaskStatus.NO_INSTANCES, 0),
        pending_candidates=pending or 0,
        rejected={str(k): int(v) for k, v in rejected.items()},
        requests=req[0],
        failed_requests=req[1],
        prompt_tokens=int(req[2]),
        completion_tokens=int(req[3]),
        cached_tokens=int(req[5]),
        cost_usd=float(req[4]) if req[4] is not None else None,
        elapsed_s=(end - _as_utc(rnd.created_at)).total_seconds(),
        error=rnd.error,
    )


def pool_stats(session: Session, pool: Pool) -> PoolStats:
    """Pool-wide statistics: tasks by origin / classification / status, rejections, tokens, cost."""

    def grouped(*cols: Any, model: Any = Task) -> list[tuple[Any, ...]]:
        query = select(*cols, func.count()).where(model.pool_id == pool.id).group_by(*cols)
        return [tuple(r) for r in session.execute(query).all()]

    cls_names = {True: "yes", False: "no", None: "unknown"}
    req = _request_totals(session, LLMRequest.pool_id == pool.id)
    by_stage = grouped(LLMRequest.stage, model=LLMRequest)
    return PoolStats(
        pool=pool.name,
        tasks=sum(n for _, n in grouped(Task.origin)),
        by_origin={o: n for o, n in grouped(Task.origin)},
        by_classification={cls_names[c]: n for c, n in grouped(Task.is_classification)},
        by_status={s: n for s, n in grouped(Task.status)},
        instances=int(
            session.scalar(
                select(func.count()).select_from(Task).join(Task.instances).where(Task.pool_id == pool.id)
            )
            or 0
        ),
        rejections={
            f"{st}/{r}": n for st, r, n in grouped(Rejection.stage, Rejection.reason, model=Rejection)
        },
        rounds={s: n for s, n in grouped(Round.status, model=Round)},
        requests=RequestTotals(req[0], req[1], {s: n for s, n in by_stage}),
        tokens=TokenTotals(int(req[2]), int(req[3]), int(req[5])),
        cost_usd=float(req[4]) if req[4] is not None else None,
    )


def list_tasks(
    session: Session,
    pool: Pool,
    *,
    origin: str | None = None,
    status: str | None = None,
    classification: bool | None = None,
    round_id: int | None = None,
    contains: str | None = None,
    limit: int | None = None,
) -> list[Task]:
    """Pool tasks matching the filters, in admission order, instances loaded."""
    query = (
        select(Task).where(Task.pool_id == pool.id).options(selectinload(Task.instances)).order_by(Task.id)
    )
    if origin:
        query = query.where(Task.origin == origin)
    if status:
        query = query.where(Task.status == status)
    if classification is not None:
        query = query.where(Task.is_classification.is_(classification))
    if round_id is not None:
        query = query.where(Task.round_id == round_id)
    if contains:
        query = query.where(Task.instruction.contains(contains))
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


def alpaca_rows(session: Session, pool: Pool, origin: str | None = Origin.MACHINE) -> list[dict[str, str]]:
    """One ``{instruction, input, output}`` row per instance of the pool's tasks (machine-made by default)."""
    tasks = list_tasks(session, pool, origin=origin)
    return [
        {"instruction": t.instruction, "input": i.input, "output": i.output}
        for t in tasks
        for i in t.instances
    ]
