"""Units of work shared by the in-process runner and the Celery tasks.

Each step takes ids, calls the LLM outside any transaction, then writes its results in one
transaction. Steps are idempotent by database keys and status guards: running one twice
(a redelivered message, a resumed run) writes nothing twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Result, Row, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from generator import classification, instances, instructions
from generator.db import repository as repo
from generator.db import rows
from generator.db.models import Instance as InstanceRow
from generator.db.models import LLMRequest, Task
from generator.db.models import Rejection as RejectionRow
from generator.errors import LLMTransientError
from generator.llm import LLMClient
from generator.params import GenerationParams
from generator.pricing import cost_usd
from generator.records import LLMCall, Reason, Rejection, Stage
from generator.settings import Settings


@dataclass
class StepContext:
    """What every step needs: sessions, the LLM client, the pool's knobs, the settings."""

    sessions: sessionmaker[Session]
    client: LLMClient
    params: GenerationParams
    settings: Settings
    rng: random.Random = field(default_factory=random.Random)


def _record(
    ctx: StepContext,
    session: Session,
    pool_id: int,
    round_id: int | None,
    call: LLMCall,
    task_id: int | None = None,
) -> int:
    cost = cost_usd(call.prompt_tokens, call.completion_tokens, ctx.settings)
    return repo.record_request(session, pool_id, round_id, call, task_id=task_id, cost_usd=cost).id


def _changed(result: Result[Any]) -> bool:
    """Whether a guarded UPDATE matched a row (the status guard that makes steps idempotent)."""
    return bool(cast(CursorResult[Any], result).rowcount)


def _raise_if_transient(call: LLMCall) -> None:
    if call.error is not None and call.transient:
        raise LLMTransientError(f"{call.stage} request failed: {call.error}")


def _sample(session: Session, pool_id: int, origin: str, k: int) -> list[str]:
    if k <= 0:
        return []
    query = select(Task.instruction).where(Task.pool_id == pool_id, Task.origin == origin)
    if origin == "machine":
        query = query.where(Task.status.in_(repo.LIVE_STATUSES))
    return list(session.scalars(query.order_by(func.random()).limit(k)))


def generate(ctx: StepContext, round_id: int) -> list[int]:
    """Ask the LLM for new instructions; store the request and its parsed candidates; return their ids."""
    per_request = max(1, min(ctx.client.max_prompts_per_request, ctx.settings.llm_prompts_per_request))
    with ctx.sessions() as session:
        rnd = repo.get_round(session, round_id)
        pool_id = rnd.pool_id
        prompts = []
        for _ in range(per_request):
            seeds = _sample(
                session,
                pool_id,
                "seed",
                ctx.params.seed_instructions_per_prompt + ctx.params.machine_instructions_per_prompt,
            )
            machine = _sample(session, pool_id, "machine", ctx.params.machine_instructions_per_prompt)
            chosen = instructions.select_prompt_instructions(seeds, machine, ctx.params, ctx.rng)
            prompts.append(instructions.render_instruction_prompt(chosen, ctx.params))
    call = ctx.client.complete(prompts, ctx.params.instruction_decoding, Stage.GENERATE)
    with ctx.sessions.begin() as session:
        rnd = repo.get_round(session, round_id)
        request_id = _record(ctx, session, pool_id, round_id, call)
        texts: list[str] = []
        for prompt, choice in zip(prompts, call.choices, strict=False):
            parsed = instructions.parse_instruction_completion(
                choice.text, _next_number(prompt), choice.finish_reason, ctx.params
            )
            texts.extend(parsed.instructions)
            for rejection in parsed.rejections:
                repo.add_rejection(session, pool_id, round_id, rejection, request_id=request_id)
        ids = [c.id for c in repo.add_candidates(session, rnd, request_id, texts)]
    _raise_if_transient(call)
    return ids


def _next_number(prompt: str) -> int:
    """The list number the prompt ends on (the item the model is asked to continue)."""
    tail = prompt.rstrip().rsplit("\n", 1)[-1]
    return int(tail.strip().rstrip(".").strip() or 0)


def _open_task(ctx: StepContext, task_id: int) -> Row[int, int | None, str, str, bool | None] | None:
    """(pool_id, round_id, instruction, status, is_classification) of a task, in one Core SELECT."""
    with ctx.sessions() as session:
        return session.execute(
            select(Task.pool_id, Task.round_id, Task.instruction, Task.status, Task.is_classification)
            .where(Task.id == task_id)
        ).first()


def _request_row(ctx: StepContext, pool_id: int, round_id: int | None, call: LLMCall,
                 task_id: int) -> dict[str, object]:
    cost = cost_usd(call.prompt_tokens, call.completion_tokens, ctx.settings)
    return rows.request_row(pool_id, round_id, call, task_id=task_id, cost_usd=cost)


def classify(ctx: StepContext, task_id: int) -> bool | None:
    """Ask whether the task is a classification task (one retry on an unparseable answer).

    Stores every request; an answer that stays unparseable is stored as unknown (None) with a
    rejection, never as "No". Returns the stored value; a task not waiting for this is left alone.
    """
    task = _open_task(ctx, task_id)
    if task is None or task.status != repo.PENDING_CLASSIFICATION:
        return task.is_classification if task is not None else None
    pool_id, round_id, text = task.pool_id, task.round_id, task.instruction
    prompt = classification.render_classification_prompt(text)
    calls: list[LLMCall] = []
    answer: bool | None = None
    for _ in range(1 + ctx.params.classification_retries):
        call = ctx.client.complete([prompt], ctx.params.classification_decoding, Stage.CLASSIFY)
        calls.append(call)
        if call.error is not None:
            break
        answer = classification.parse_classification_answer(call.choices[0].text if call.choices else "")
        if answer is not None:
            break
    # Core statements, not ORM objects: this runs once per task and its ORM unit of work cost more
    # CPU than the rest of the step.
    with ctx.sessions.begin() as session:
        requests = [_request_row(ctx, pool_id, round_id, c, task_id) for c in calls]
        rows.insert_rows(session, LLMRequest, requests)
        failed = calls[-1] if calls[-1].error is not None and calls[-1].transient else None
        if failed is None:
            won = _changed(
                session.execute(
                    update(Task)
                    .where(Task.id == task_id, Task.status == repo.PENDING_CLASSIFICATION)
                    .values(
                        is_classification=answer,
                        status=repo.PENDING_INSTANCES,
                        classification_attempts=Task.classification_attempts + len(calls),
                    )
                )
            )
            if won and answer is None:
                raw = " | ".join(repr(c.choices[0].text) if c.choices else repr(c.error) for c in calls)
                rejection = Rejection(
                    Stage.CLASSIFY, Reason.UNKNOWN_CLASS, text, f"unparseable answers: {raw}"[:2000]
                )
                rows.insert_rows(session, RejectionRow,
                                 [rows.rejection_row(pool_id, round_id, rejection, task_id=task_id)])
    if failed is not None:
        _raise_if_transient(failed)
    return answer


def make_instances(ctx: StepContext, task_id: int) -> int:
    """Generate, parse and filter instances for a classified task; returns how many were kept."""
    task = _open_task(ctx, task_id)
    if task is None or task.status != repo.PENDING_INSTANCES:
        return 0
    pool_id, round_id, text = task.pool_id, task.round_id, task.instruction
    output_first = bool(task.is_classification)
    prompt = instances.render_instance_prompt(text, output_first)
    call = ctx.client.complete([prompt], ctx.params.instance_decoding, Stage.INSTANCES)
    transient_failure = call.error is not None and call.transient
    kept: tuple[object, ...] = ()
    with ctx.sessions.begin() as session:
        request_id = rows.insert_request(session, _request_row(ctx, pool_id, round_id, call, task_id))
        if not transient_failure:
            choice = call.choices[0] if call.choices else None
            parsed = instances.parse_instances(
                choice.text if choice else "", output_first, choice.finish_reason if choice else None
            )
            result = instances.filter_instances(parsed, ctx.params)
            won = _changed(
                session.execute(
                    update(Task)
                    .where(Task.id == task_id, Task.status == repo.PENDING_INSTANCES)
                    .values(status=repo.COMPLETE if result.instances else repo.NO_INSTANCES)
                )
            )
            kept = result.instances
            if won:  # the guard won: this task has no instances yet, so a plain insert is exact
                rows.insert_rows(session, InstanceRow, [
                    {"task_id": task_id, "position": i, "input": x.input, "output": x.output}
                    for i, x in enumerate(result.instances)
                ])
                rejections = list(result.rejections)
                if not result.instances:
                    detail = call.error or f"{len(parsed)} parsed, none kept"
                    rejections.append(Rejection(Stage.INSTANCES, Reason.NO_INSTANCES, text, detail))
                rows.insert_rows(session, RejectionRow, [
                    rows.rejection_row(pool_id, round_id, r, request_id=request_id, task_id=task_id)
                    for r in rejections
                ])
    _raise_if_transient(call)
    return len(kept)
