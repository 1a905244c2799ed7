"""The ``task_quality`` model: InstructMining indicators per task (issue: pool analysis)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from generator.db.models.base import Base, utcnow


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
