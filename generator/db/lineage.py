"""A task's whole story for `pool show` and the API: where it came from and what happened to it.

Batched requests store several prompts/responses as JSON lists; the part about this task is
picked out: by its position in ``task_ids`` for classification/instances requests, and for the
generation request by the response that contains the instruction.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from generator.db.listing import rows_by_id
from generator.db.models import Candidate, LLMRequest, Pool, Rejection, Task
from generator.db.readmodels import TaskRow
from generator.errors import NotFoundError

_ITEM = re.compile(r"^\s*\d+\.\s+(.+?)\s*$")


@dataclass(frozen=True)
class RequestPart:
    """The prompt and raw response of one request that concerned the task."""

    request_id: int
    stage: str
    model: str
    prompt: str
    response: str | None
    error: str | None


@dataclass(frozen=True)
class RejectionRow:
    """A rejection tied to the task (e.g. an instance that was dropped) with its reason."""

    stage: str
    reason: str
    text: str
    detail: str


@dataclass(frozen=True)
class TaskLineage:
    """The task and its lineage; ``None``/empty where a step has not happened (or for seeds)."""

    task: TaskRow
    pool: str
    generation: RequestPart | None
    in_context: tuple[str, ...]
    nearest_instruction: str | None
    classification: RequestPart | None
    instances_request: RequestPart | None
    rejections: tuple[RejectionRow, ...]

    def as_json(self) -> dict[str, Any]:
        """JSON-ready form (the task as in listings, the rest as plain objects)."""
        out = asdict(self)
        out["task"] = self.task.as_json()
        return out


def _parts(value: str | None, count: int) -> list[str | None]:
    """The per-prompt parts of a stored prompt/response (a JSON list when ``count`` > 1)."""
    if value is None:
        return [None] * count
    if count > 1:
        try:
            parts = json.loads(value)
            if isinstance(parts, list) and len(parts) == count:
                return [str(p) for p in parts]
        except ValueError:
            pass
    return [value] * count


def _part(req: LLMRequest, index: int) -> RequestPart:
    prompts, responses = _parts(req.prompt, req.prompt_count), _parts(req.response, req.prompt_count)
    i = index if 0 <= index < req.prompt_count else 0
    return RequestPart(req.id, req.stage, req.model, prompts[i] or "", responses[i], req.error)


def in_context_instructions(prompt: str) -> tuple[str, ...]:
    """The numbered instructions of a generation prompt (the last, open number has no text)."""
    return tuple(m.group(1) for line in prompt.splitlines() if (m := _ITEM.match(line)))


def _generation(session: Session, task: Task) -> RequestPart | None:
    if task.candidate_id is None:
        return None
    candidate = session.get(Candidate, task.candidate_id)
    req = session.get(LLMRequest, candidate.request_id) if candidate else None
    if req is None:
        return None
    responses = _parts(req.response, req.prompt_count)
    index = next((i for i, r in enumerate(responses) if r and task.instruction in r), 0)
    return _part(req, index)


def _about(session: Session, task: Task, stage: str) -> RequestPart | None:
    """The latest request of ``stage`` in the task's round that asked about the task."""
    query = (
        select(LLMRequest)
        .where(
            LLMRequest.pool_id == task.pool_id,
            LLMRequest.stage == stage,
            or_(LLMRequest.round_id == task.round_id, LLMRequest.task_id == task.id),
        )
        .order_by(LLMRequest.id.desc())
    )
    for req in session.scalars(query):
        ids = list(req.task_ids or ([req.task_id] if req.task_id is not None else []))
        if task.id in ids:
            return _part(req, ids.index(task.id))
    return None


def task_lineage(session: Session, task_id: int) -> TaskLineage:
    """Everything stored about task ``task_id``; NotFoundError when there is no such task."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFoundError(f"no task with id {task_id}")
    generation = _generation(session, task)
    nearest = session.get(Task, task.nearest_task_id) if task.nearest_task_id else None
    rejections = session.scalars(
        select(Rejection).where(Rejection.task_id == task.id).order_by(Rejection.id)
    ).all()
    return TaskLineage(
        task=rows_by_id(session, [task.id])[0],
        pool=pool.name if (pool := session.get(Pool, task.pool_id)) else "?",
        generation=generation,
        in_context=in_context_instructions(generation.prompt) if generation else (),
        nearest_instruction=nearest.instruction if nearest else None,
        classification=_about(session, task, "classify"),
        instances_request=_about(session, task, "instances"),
        rejections=tuple(RejectionRow(r.stage, r.reason, r.text, r.detail) for r in rejections),
    )
