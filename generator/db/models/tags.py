"""Models of InsTag: taggings and raw tags per task, vocabulary versions, mappings, metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from generator.db.models.base import Base, utcnow


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
