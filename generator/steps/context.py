"""What every step needs, and the helpers the steps share (request rows, task reads, guards)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from generator.db import rows
from generator.db.tasks import StepTaskRow, tasks_in_status_by_id
from generator.errors import LLMTransientError
from generator.llm.client import LLMClient
from generator.llm.pricing import cost_usd
from generator.novelty.config import IndexConfig
from generator.records import LLMCall
from generator.selfinstruct.params import GenerationParams
from generator.settings import Settings
from generator.steps.coverage import PoolCoverage

T = TypeVar("T")

TaskRow = StepTaskRow


@dataclass
class StepContext:
    """What every step needs: sessions, the LLM client, the pool's knobs, the settings, how the novelty
    index searches (built from the settings by generator/wiring.py)."""

    sessions: sessionmaker[Session]
    client: LLMClient
    params: GenerationParams
    settings: Settings
    rng: random.Random = field(default_factory=random.Random)
    # The tag counts steered rounds read; one per process, kept across steps (see steps/coverage.py).
    coverage: PoolCoverage = field(default_factory=PoolCoverage)
    index_config: IndexConfig = field(default_factory=IndexConfig)


def batch_size(ctx: StepContext) -> int:
    """Prompts per request: the settings' choice, capped by what the client accepts."""
    return max(1, min(ctx.client.max_prompts_per_request, ctx.settings.prompts_per_request))


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of ``items`` of at most ``size`` (the last may be shorter)."""
    for start in range(0, len(items), max(1, size)):
        yield list(items[start:start + max(1, size)])


def request_row(ctx: StepContext, pool_id: int, round_id: int | None, call: LLMCall,
                task_ids: Sequence[int] | None = None,
                steering: Sequence[dict[str, object]] | None = None) -> dict[str, object]:
    """The ``llm_requests`` row of ``call``, priced with the settings' token prices."""
    cached = min(call.cached_tokens, call.prompt_tokens) if call.cached_tokens is not None else None
    cost = cost_usd(call.prompt_tokens, call.completion_tokens, ctx.settings, cached)
    return rows.request_row(pool_id, round_id, call, task_ids=task_ids, cost_usd=cost, steering=steering)


def raise_if_transient(call: LLMCall) -> None:
    """Raise LLMTransientError for a call that failed for a reason worth retrying later."""
    if failed_transiently(call):
        raise LLMTransientError(f"{call.stage} request failed: {call.error}")


def failed_transiently(call: LLMCall) -> bool:
    """Whether the call failed for a reason worth retrying (its tasks stay pending)."""
    return call.error is not None and call.transient


def open_tasks(ctx: StepContext, task_ids: Sequence[int], status: str) -> list[TaskRow]:
    """The tasks among ``task_ids`` still in ``status``, in the given order, read in one SELECT.

    Rows are ``(id, pool_id, round_id, instruction, status, is_classification)``. ValueError if
    they span several rounds: a batch belongs to one round (its requests are stored under it).
    """
    if not task_ids:
        return []
    with ctx.sessions() as session:
        found = tasks_in_status_by_id(session, task_ids, status)
    by_id = {row.id: row for row in found}
    if len({(row.pool_id, row.round_id) for row in found}) > 1:
        raise ValueError(f"tasks {sorted(by_id)} belong to several rounds; a batch is one round's")
    return [by_id[i] for i in dict.fromkeys(task_ids) if i in by_id]
