"""Models of the pool's pipeline: pools, rounds, candidates, tasks, their instances and rejections.

Unique keys make every stage idempotent: re-running a stage on the same round hits the
same keys and writes nothing twice (see the ``uq_*`` constraints).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from generator.db.models.base import Base, CleanText, utcnow
from generator.db.statuses import CandidateStatus, RoundMode, RoundStatus


class Pool(Base):
    """A named task pool: its seed set and the generation settings its rounds use."""

    __tablename__ = "pools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    seed_source: Mapped[str] = mapped_column(CleanText, default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Round(Base):
    """One generation round: a target of admitted instructions and optional budget/deadline."""

    __tablename__ = "rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    target: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=RoundStatus.RUNNING, index=True)
    budget_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(nullable=True)
    mode: Mapped[str] = mapped_column(String(20), default=RoundMode.INPROCESS)  # inprocess | fleet
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)  # target|budget|deadline|...
    error: Mapped[str | None] = mapped_column(CleanText, nullable=True)
    # The round's SteeringParams (generator.steering); NULL is the plain loop (strategy "none").
    steering: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A fleet round with tagging on: each complete task is tagged (InsTag) before the round is done.
    tag: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    pool: Mapped[Pool] = relationship()


class Candidate(Base):
    """An instruction parsed from a generation response, waiting for (or done with) admission.

    ``(request_id, position)`` is unique, so parsing the same response twice adds nothing.
    """

    __tablename__ = "candidates"
    __table_args__ = (UniqueConstraint("request_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("llm_requests.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(CleanText)
    status: Mapped[str] = mapped_column(String(20), default=CandidateStatus.PENDING, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Task(Base):
    """A pool instruction, seed or machine-made, with its classification and nearest pool match."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("pool_id", "instruction_hash"),
        UniqueConstraint("candidate_id"),
        Index("ix_tasks_pool_id_status", "pool_id", "status"),
        # Filter and keyset-pagination columns of listings and exports (migration 0003).
        Index("ix_tasks_pool_id_id", "pool_id", "id"),
        Index("ix_tasks_pool_id_origin", "pool_id", "origin"),
        Index("ix_tasks_pool_id_created_at", "pool_id", "created_at"),
        Index("ix_tasks_pool_id_nearest_score", "pool_id", "nearest_score"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    instruction: Mapped[str] = mapped_column(CleanText)
    instruction_hash: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(10))  # seed | machine
    seed_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_classification: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # pending_classification -> pending_instances -> complete | no_instances ; seeds are complete.
    status: Mapped[str] = mapped_column(String(30))
    classification_attempts: Mapped[int] = mapped_column(Integer, default=0)
    nearest_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    nearest_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    instances: Mapped[list[Instance]] = relationship(
        back_populates="task", order_by="Instance.position", cascade="all, delete-orphan"
    )


class Instance(Base):
    """One input/output example of a task; ``(task_id, position)`` is unique."""

    __tablename__ = "instances"
    __table_args__ = (UniqueConstraint("task_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    input: Mapped[str] = mapped_column(CleanText)
    output: Mapped[str] = mapped_column(CleanText)
    task: Mapped[Task] = relationship(back_populates="instances")


class Rejection(Base):
    """A dropped candidate (instruction, classification answer or instance) with its reason."""

    __tablename__ = "rejections"
    __table_args__ = (Index("ix_rejections_task_id", "task_id"),)  # a task's lineage (migration 0003)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("llm_requests.id", ondelete="SET NULL"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), index=True)
    text: Mapped[str] = mapped_column(CleanText)
    detail: Mapped[str] = mapped_column(CleanText, default="")
    nearest_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    nearest_text: Mapped[str | None] = mapped_column(CleanText, nullable=True)
    nearest_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
