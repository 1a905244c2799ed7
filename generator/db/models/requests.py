"""The ``llm_requests`` model: every request to the LLM endpoint, with what it cost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from generator.db.models.base import Base, CleanText, utcnow


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
