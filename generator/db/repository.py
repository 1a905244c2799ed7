"""Repository functions over the pool database.

Every function takes a ``session`` and never commits: the caller owns the transaction,
so a stage's writes land all together or not at all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from generator import records
from generator.db import statuses
from generator.db.models import Candidate, Instance, Pool, Round, Task, utcnow
from generator.db.rows import table
from generator.db.statuses import CandidateStatus, Origin, RoundMode, RoundStatus, TaskStatus
from generator.errors import NotFoundError
from generator.selfinstruct.params import GenerationParams

# First key of the two-int advisory lock, so pool locks never collide with other applications' locks.
POOL_LOCK_NAMESPACE = 0x5E1F


def lock_pool(session: Session, pool_id: int) -> None:
    """Serialize the writers of a pool's tasks (admission, seed loading) until the transaction ends.

    On PostgreSQL this is a transaction-scoped advisory lock on the pool (re-entrant within a
    transaction). Everything that inserts tasks takes it first, so task ids grow in commit order
    and a holder that reads the pool after taking it sees every task committed before. SQLite
    needs nothing here: it admits one writer at a time (and the fleet requires PostgreSQL).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, :pool)"), {"ns": POOL_LOCK_NAMESPACE, "pool": pool_id}
        )


def instruction_hash(text: str) -> str:
    """The key that makes an instruction unique within a pool (exact text, SHA-256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_pool(session: Session, name: str) -> Pool:
    """The pool called ``name``; NotFoundError when there is none."""
    pool = session.scalar(select(Pool).where(Pool.name == name))
    if pool is None:
        raise NotFoundError(
            f"no pool named {name!r} (create it with `selfinstruct seeds load --pool {name}`)"
        )
    return pool


def ensure_pool(session: Session, name: str, params: GenerationParams, seed_source: str = "") -> Pool:
    """The pool called ``name``, created with ``params`` when it does not exist yet."""
    pool = session.scalar(select(Pool).where(Pool.name == name))
    if pool is None:
        pool = Pool(name=name, params=params.to_json(), seed_source=seed_source)
        session.add(pool)
        session.flush()
    return pool


def add_seed_tasks(session: Session, pool: Pool, seeds: Sequence[records.SeedTask]) -> int:
    """Add seed tasks not yet in the pool (matched by exact instruction); return how many were added."""
    lock_pool(session, pool.id)
    known = set(session.scalars(select(Task.instruction_hash).where(Task.pool_id == pool.id)))
    added = 0
    for seed in seeds:
        key = instruction_hash(seed.instruction)
        if key in known:
            continue
        known.add(key)
        task = Task(
            pool_id=pool.id,
            instruction=seed.instruction,
            instruction_hash=key,
            origin=Origin.SEED,
            seed_id=seed.id,
            name=seed.name,
            is_classification=seed.is_classification,
            status=TaskStatus.COMPLETE,
        )
        task.instances = [
            Instance(position=i, input=x.input, output=x.output) for i, x in enumerate(seed.instances)
        ]
        session.add(task)
        added += 1
    if added:
        pool.seed_source = pool.seed_source or "seeds"
    session.flush()
    return added


def pool_instructions(session: Session, pool_id: int) -> list[tuple[int, str, str]]:
    """``(task_id, instruction, origin)`` of every pool task, in admission order (the index's order)."""
    rows = session.execute(
        select(Task.id, Task.instruction, Task.origin).where(Task.pool_id == pool_id).order_by(Task.id)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def open_round(
    session: Session,
    pool: Pool,
    target: int,
    *,
    budget_tokens: int | None = None,
    deadline: datetime | None = None,
    mode: str = RoundMode.INPROCESS,
    steering: dict[str, Any] | None = None,
    tag: bool = False,
) -> Round:
    """Start a new round in ``pool`` aiming at ``target`` admitted, completed instructions.

    ``steering`` is the round's ``SteeringParams.to_json()`` (None: the plain loop); ``tag``: each
    task is tagged (InsTag) once complete, and the round is done only when they all are."""
    rnd = Round(
        pool_id=pool.id,
        target=target,
        budget_tokens=budget_tokens,
        deadline=deadline,
        mode=mode,
        steering=steering,
        tag=tag,
    )
    session.add(rnd)
    session.flush()
    return rnd


def get_round(session: Session, round_id: int) -> Round:
    """The round with ``round_id``; NotFoundError when there is none."""
    rnd = session.get(Round, round_id)
    if rnd is None:
        raise NotFoundError(f"no round with id {round_id}")
    return rnd


def running_round(session: Session, pool_id: int, mode: str = RoundMode.INPROCESS) -> Round | None:
    """The oldest unfinished round of ``mode`` in the pool, if any (what an interrupted run resumes)."""
    return session.scalar(
        select(Round)
        .where(Round.pool_id == pool_id, Round.status == RoundStatus.RUNNING, Round.mode == mode)
        .order_by(Round.id)
        .limit(1)
    )


def finish_round(
    session: Session, rnd: Round, status: str, end_reason: str, error: str | None = None
) -> None:
    """Move a running round to ``status`` (completed|failed|cancelled) with why it ended."""
    session.execute(
        update(Round)
        .where(Round.id == rnd.id, Round.status == RoundStatus.RUNNING)
        .values(status=status, end_reason=end_reason, error=error, finished_at=utcnow())
    )
    session.refresh(rnd)


def round_status_for_update(session: Session, round_id: int) -> str:
    """The round's status, read with a share lock on its row (PostgreSQL) until the transaction ends.

    Writers of a round's candidates read it this way: ending a round updates that row first, so
    it waits for them, and they wait for it and then see the round ended (their candidates are
    then surplus, never left pending in an ended round).
    """
    rounds = table(Round)
    query = select(rounds.c.status).where(rounds.c.id == round_id).with_for_update(read=True)
    status = session.connection().execute(query).scalar()
    if status is None:
        raise NotFoundError(f"no round with id {round_id}")
    return str(status)


def add_candidates(
    session: Session,
    pool_id: int,
    round_id: int,
    request_id: int,
    texts: Sequence[str],
    status: str = CandidateStatus.PENDING,
) -> list[int]:
    """Store the parsed instructions of one (just stored) response as candidates; their ids.

    One Core insert: ``(request_id, position)`` is unique, so a response is never stored twice.
    """
    if not texts:
        return []
    now = utcnow()
    values = [
        {
            "pool_id": pool_id,
            "round_id": round_id,
            "request_id": request_id,
            "position": position,
            "text": body,
            "status": status,
            "created_at": now,
        }
        for position, body in enumerate(texts)
    ]
    candidates = table(Candidate)
    statement = insert(candidates).returning(candidates.c.id, sort_by_parameter_order=True)
    return [int(i) for i in session.connection().execute(statement, values).scalars()]


def tasks_in_status(session: Session, round_id: int, status: str, limit: int | None = None) -> list[Task]:
    """Machine tasks of a round in ``status``, oldest first."""
    query = select(Task).where(Task.round_id == round_id, Task.status == status).order_by(Task.id)
    return list(session.scalars(query.limit(limit) if limit else query))


def live_count(session: Session, round_id: int) -> int:
    """The round's admitted tasks that have not ended without instances."""
    query = select(func.count()).where(Task.round_id == round_id, Task.status.in_(statuses.LIVE_STATUSES))
    live = session.scalar(query)
    return int(live or 0)
