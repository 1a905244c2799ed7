"""The classify step: ask whether each task of a batch is a classification task."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from generator.db import models, rows
from generator.db import repository as repo
from generator.db.models import LLMRequest, Task
from generator.records import LLMCall, Reason, Rejection, Stage
from generator.selfinstruct import classification
from generator.steps.context import (
    StepContext,
    batch_size,
    chunked,
    failed_transiently,
    move_tasks,
    open_tasks,
    per_task,
    raise_if_transient,
    request_row,
)


@dataclass
class _Question:
    """One task's classification so far: its answer, the raw replies, the call that failed it."""

    task_id: int
    text: str
    answer: bool | None = None
    replies: list[str] = field(default_factory=list)
    failed: LLMCall | None = None


def _ask(ctx: StepContext, batch: list[_Question]) -> LLMCall:
    """One request for ``batch``; records each task's reply (or the request's error) on it."""
    prompts = [classification.render_classification_prompt(q.text) for q in batch]
    call = ctx.client.complete(prompts, ctx.params.classification_decoding, Stage.CLASSIFY)
    if call.error is not None:
        for question in batch:
            question.failed = call
            question.replies.append(repr(call.error))
        return call
    for question, choice in zip(batch, call.choices, strict=True):
        question.replies.append(repr(choice.text))
        question.answer = classification.parse_classification_answer(choice.text)
    return call


def _unknown(question: _Question) -> Rejection:
    """The rejection of a task whose answer stayed unparseable (or whose request failed for good)."""
    detail = f"unparseable answers: {' | '.join(question.replies)}"[:2000]
    return Rejection(Stage.CLASSIFY, Reason.UNKNOWN_CLASS, question.text, detail)


def classify(ctx: StepContext, task_ids: Sequence[int]) -> dict[int, bool | None]:
    """Ask whether each task is a classification task (one retry of an unparseable answer).

    The tasks (of one round) still waiting for this are asked :func:`batch_size` per request; the
    unparseable ones are asked once more, together. Every request is stored; an answer that
    stays unparseable is stored as unknown (None) with a rejection, never as "No". A request that
    failed for good leaves its tasks unknown too; one that failed transiently leaves them pending
    and raises LLMTransientError once the others are stored. Returns the answers stored now.
    """
    waiting = open_tasks(ctx, task_ids, repo.PENDING_CLASSIFICATION)
    if not waiting:
        return {}
    pool_id, round_id = waiting[0].pool_id, waiting[0].round_id
    questions = [_Question(t.id, t.instruction) for t in waiting]
    calls: list[tuple[LLMCall, list[int]]] = []
    asking = questions
    for _ in range(1 + ctx.params.classification_retries):
        for batch in chunked(asking, batch_size(ctx)):
            calls.append((_ask(ctx, batch), [q.task_id for q in batch]))
        asking = [q for q in asking if q.failed is None and q.answer is None]
        if not asking:
            break
    settled = [q for q in questions if q.failed is None or not failed_transiently(q.failed)]
    tasks = rows.table(Task)
    # Core statements on the connection, and one UPDATE for the batch: this runs for every task.
    with ctx.sessions.begin() as session:
        requests = [request_row(ctx, pool_id, round_id, call, ids) for call, ids in calls]
        rows.insert_rows(session, LLMRequest, requests)
        won = move_tasks(
            session, [q.task_id for q in settled], repo.PENDING_CLASSIFICATION,
            status=repo.PENDING_INSTANCES,
            is_classification=per_task({q.task_id: q.answer for q in settled}, tasks.c.is_classification),
            classification_attempts=tasks.c.classification_attempts
            + per_task({q.task_id: len(q.replies) for q in settled}, tasks.c.classification_attempts),
        )
        rows.insert_rows(session, models.Rejection, [
            rows.rejection_row(pool_id, round_id, _unknown(q), task_id=q.task_id)
            for q in settled if q.task_id in won and q.answer is None
        ])
    for q in questions:
        if q.failed is not None:
            raise_if_transient(q.failed)
    return {q.task_id: q.answer for q in settled if q.task_id in won}
