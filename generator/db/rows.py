"""Column values of the rows the pipeline writes most, and Core statements that write them.

The fleet writes a request row (and often instances and rejections) per LLM call. Plain dicts
inserted with one Core statement on the session's connection cost a fraction of ORM objects
(unit of work) and of ORM-enabled statements (bulk persistence): the hot path of every step.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from generator import records
from generator.db.models import Base, LLMRequest, utcnow

MAX_COUNT = 2**31 - 1  # INTEGER columns on PostgreSQL; a larger reported figure is nonsense


def request_row(
    pool_id: int,
    round_id: int | None,
    call: records.LLMCall,
    *,
    task_id: int | None = None,
    task_ids: Sequence[int] | None = None,
    cost_usd: float | None = None,
    steering: Sequence[dict[str, object]] | None = None,
) -> dict[str, object]:
    """The ``llm_requests`` column values of one request; several prompts are stored as a JSON list.

    ``task_ids`` are the tasks the prompts are about, in prompt order (``task_id`` defaults to the
    only one); ``steering`` the steering plan of each generation prompt, in prompt order."""
    if task_ids is not None and task_id is None and len(task_ids) == 1:
        task_id = task_ids[0]
    many = len(call.prompts) > 1
    responses = [capped(c.text) for c in call.choices]
    finishes = [c.finish_reason or "" for c in call.choices]
    return {
        "pool_id": pool_id, "round_id": round_id, "task_id": task_id,
        "task_ids": list(task_ids) if task_ids is not None else None,
        "steering": list(steering) if steering is not None else None, "stage": str(call.stage),
        "model": call.model, "api": call.api,
        "prompt": json.dumps(list(call.prompts)) if many else call.prompts[0],
        "response": (json.dumps(responses) if many else responses[0]) if responses else None,
        "finish_reason": ",".join(finishes) if finishes else None,
        "prompt_count": len(call.prompts), "prompt_tokens": _count(call.prompt_tokens),
        "completion_tokens": _count(call.completion_tokens),
        "cached_tokens": None if call.cached_tokens is None else _count(call.cached_tokens),
        "latency_ms": call.latency_s * 1000.0,
        "cost_usd": cost_usd, "attempts": call.attempts, "error": call.error, "created_at": utcnow(),
    }


# A completion is stored up to this many characters (per prompt), so a server answering 200 KB of
# garbage cannot grow the database without bound; the parser still sees the whole text.
RESPONSE_CAP_CHARS = 64 * 1024


def capped(text: str, cap: int = RESPONSE_CAP_CHARS) -> str:
    """``text``, or its first ``cap`` characters and a marker saying how much was left out."""
    if len(text) <= cap:
        return text
    return text[:cap] + f"\n[... {len(text) - cap} more characters not stored]"


def _count(value: int) -> int:
    return min(max(value, 0), MAX_COUNT)


def table(model: type[Base]) -> Table:
    """The Core table of a model (statements on it skip the ORM's statement handling)."""
    return cast(Table, model.__table__)


def insert_request(session: Session, row: dict[str, object]) -> int:
    """Insert a :func:`request_row` with one Core statement (no ORM object); returns its id."""
    requests = table(LLMRequest)
    statement = insert(requests).values(row).returning(requests.c.id)
    return int(session.connection().execute(statement).scalar_one())


def rejection_row(
    pool_id: int,
    round_id: int | None,
    rejection: records.Rejection,
    *,
    candidate_id: int | None = None,
    request_id: int | None = None,
    task_id: int | None = None,
    nearest_task_id: int | None = None,
) -> dict[str, object]:
    """The ``rejections`` column values of one rejection record (reason code + detail + nearest match)."""
    return {
        "pool_id": pool_id, "round_id": round_id, "candidate_id": candidate_id, "request_id": request_id,
        "task_id": task_id, "stage": str(rejection.stage), "reason": str(rejection.reason),
        "text": capped(rejection.text), "detail": rejection.detail, "nearest_task_id": nearest_task_id,
        "nearest_text": rejection.nearest_text, "nearest_score": rejection.nearest_score,
        "created_at": utcnow(),
    }


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, object]]) -> None:
    """Insert rows of ``model`` with one Core executemany (no ORM objects); nothing when empty."""
    if rows:
        session.connection().execute(insert(table(model)), list(rows))
