"""SQLAlchemy 2.0 typed models of the task pool.

Unique keys make every stage idempotent: re-running a stage on the same round hits the
same keys and writes nothing twice (see the ``uq_*`` constraints).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from generator import characters

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class CleanText(TypeDecorator[str]):
    """Text whose NUL, other control characters and lone surrogates are stored as U+FFFD.

    The last line of defence: PostgreSQL refuses NUL (the row would be lost) and neither database
    can encode a lone surrogate. Instructions with such characters are rejected by a filter first."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return characters.clean(value) if isinstance(value, str) else value


def utcnow() -> datetime:
    """Timezone-aware now, for column defaults."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention used by the migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


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
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    budget_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deadline: Mapped[datetime | None] = mapped_column(nullable=True)
    mode: Mapped[str] = mapped_column(String(20), default="inprocess")  # inprocess | fleet
    end_reason: Mapped[str | None] = mapped_column(String(20), nullable=True)  # target|budget|deadline|...
    error: Mapped[str | None] = mapped_column(CleanText, nullable=True)
    # The round's SteeringParams (generator.steering); NULL is the plain loop (strategy "none").
    steering: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # A fleet round with tagging on: each complete task is tagged (InsTag) before the round is done.
    tag: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    pool: Mapped[Pool] = relationship()


class LLMRequest(Base):
    """Every request to the LLM endpoint: prompt(s), raw response(s), tokens, latency, cost, error."""

    __tablename__ = "llm_requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), index=True)
    # No foreign key: tasks -> candidates -> llm_requests already points the other way.
    task_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The tasks a classification or instances request asked about, in prompt order (a batch of
    # several tasks is one request); ``task_id`` is set too when there is exactly one.
    task_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    # A steered generation request's plans, one per prompt in prompt order: strategy, aimed-at
    # tags, in-context example task ids, vocabulary version (PromptPlan.to_json); NULL unsteered.
    steering: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    stage: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    api: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(CleanText)
    response: Mapped[str | None] = mapped_column(CleanText, nullable=True)
    # One reason per prompt, comma-separated (a batch of 20 truncated answers is 139 characters).
    finish_reason: Mapped[str | None] = mapped_column(CleanText, nullable=True)
    prompt_count: Mapped[int] = mapped_column(Integer, default=1)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    # Prompt tokens the endpoint served from its prompt cache (a subset of prompt_tokens); NULL when
    # the endpoint did not say (never a silent 0).
    cached_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    cost_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(CleanText, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
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


class TaskQuality(Base):
    """InstructMining indicators of one task (of its first instance); null where an input is missing.

    ``perplexity_reason`` says why ``perplexity`` is null (e.g. the endpoint returns no prompt
    log-probabilities); ``reward`` is null unless a reward scorer is configured, and so is
    ``rule_score``, which needs it.
    """

    __tablename__ = "task_quality"
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    input_length: Mapped[int] = mapped_column(Integer)
    output_length: Mapped[int] = mapped_column(Integer)
    mtld: Mapped[float | None] = mapped_column(Float, nullable=True)
    knn6: Mapped[float | None] = mapped_column(Float, nullable=True)
    perplexity: Mapped[float | None] = mapped_column(Float, nullable=True)
    perplexity_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    reward: Mapped[float | None] = mapped_column(Float, nullable=True)
    rule_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    embedder: Mapped[str] = mapped_column(String(200), default="")
    scorer: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the reward scorer, if any
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskTagging(Base):
    """One task's tagging outcome (InsTag): tagged, or failed with the raw answer. One row per task,
    so tagging a pool twice tags nothing twice."""

    __tablename__ = "task_taggings"
    __table_args__ = (UniqueConstraint("task_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("llm_requests.id", ondelete="SET NULL"))
    tagger_model: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # tagged | failed
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    failure_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure_detail: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TaskTag(Base):
    """One raw tag of a task with the tagger's explanation; ``(task_id, position)`` is unique."""

    __tablename__ = "task_tags"
    __table_args__ = (UniqueConstraint("task_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("llm_requests.id", ondelete="SET NULL"))
    tagger_model: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    tag: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text, default="")


class TagVocabulary(Base):
    """One normalization run of a pool's tags: knobs, counts after each stage, embedder, when."""

    __tablename__ = "tag_vocabularies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stage_counts: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[stage, count], ...]
    embedder: Mapped[str] = mapped_column(String(200))
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TagMapping(Base):
    """raw -> normalized tag in one vocabulary version (raw tags dropped by the filter have no row)."""

    __tablename__ = "tag_mappings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vocabulary_id: Mapped[int] = mapped_column(
        ForeignKey("tag_vocabularies.id", ondelete="CASCADE"), index=True
    )
    raw: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)


class TagMetric(Base):
    """Diversity and complexity of one group (round, origin) under one vocabulary version, with the
    equal-size random baseline."""

    __tablename__ = "tag_metrics"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vocabulary_id: Mapped[int] = mapped_column(
        ForeignKey("tag_vocabularies.id", ondelete="CASCADE"), index=True
    )
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="SET NULL"), nullable=True)
    origin: Mapped[str] = mapped_column(String(10))
    tasks: Mapped[int] = mapped_column(Integer)
    unique_tags: Mapped[int] = mapped_column(Integer)
    coverage: Mapped[float] = mapped_column(Float)
    mean_tags_per_task: Mapped[float] = mapped_column(Float)
    entropy: Mapped[float] = mapped_column(Float)
    baseline: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
