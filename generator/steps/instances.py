"""The instances step: generate, parse and filter examples for a batch of classified tasks."""

from __future__ import annotations

from collections.abc import Sequence

from generator.db import models, rows
from generator.db import repository as repo
from generator.db.models import Task
from generator.records import InstanceResult, LLMCall, Reason, Rejection, Stage
from generator.selfinstruct import instances
from generator.steps.context import (
    StepContext,
    TaskRow,
    batch_size,
    chunked,
    failed_transiently,
    move_tasks,
    open_tasks,
    per_task,
    raise_if_transient,
    request_row,
)


def _request(ctx: StepContext, batch: list[TaskRow]) -> LLMCall:
    """One request for ``batch``: output-first prompts for classification tasks, input-first otherwise."""
    prompts = [instances.render_instance_prompt(t.instruction, bool(t.is_classification)) for t in batch]
    return ctx.client.complete(prompts, ctx.params.instance_decoding, Stage.INSTANCES)


def _outcome(ctx: StepContext, task: TaskRow, call: LLMCall, position: int) -> tuple[
        InstanceResult, list[Rejection]]:
    """The kept instances of one task's reply and the rejections to store with them."""
    choice = call.choices[position] if call.error is None else None
    parsed = instances.parse_instances(
        choice.text if choice else "", bool(task.is_classification), choice.finish_reason if choice else None
    )
    result = instances.filter_instances(parsed, ctx.params)
    rejections = list(result.rejections)
    if not result.instances:
        detail = call.error or f"{len(parsed)} parsed, none kept"
        rejections.append(Rejection(Stage.INSTANCES, Reason.NO_INSTANCES, task.instruction, detail))
    return result, rejections


def make_instances(ctx: StepContext, task_ids: Sequence[int]) -> dict[int, int]:
    """Generate, parse and filter instances for the tasks (of one round) waiting for them.

    :func:`batch_size` tasks per request; a task ends ``complete`` with its kept instances or
    ``no_instances`` with a rejection. Tasks of a request that failed transiently stay pending
    (LLMTransientError is raised once the others are stored). Returns kept counts by task id.
    """
    tasks = open_tasks(ctx, task_ids, repo.PENDING_INSTANCES)
    if not tasks:
        return {}
    pool_id, round_id = tasks[0].pool_id, tasks[0].round_id
    calls = [(_request(ctx, batch), batch) for batch in chunked(tasks, batch_size(ctx))]
    kept: dict[int, int] = {}
    with ctx.sessions.begin() as session:
        for call, batch in calls:
            row = request_row(ctx, pool_id, round_id, call, [t.id for t in batch])
            request_id = rows.insert_request(session, row)
            if failed_transiently(call):
                continue
            outcomes = {t.id: _outcome(ctx, t, call, i) for i, t in enumerate(batch)}
            ends = {i: repo.COMPLETE if result.instances else repo.NO_INSTANCES
                    for i, (result, _) in outcomes.items()}
            won = move_tasks(session, list(ends), repo.PENDING_INSTANCES,
                             status=per_task(ends, rows.table(Task).c.status))
            # Only a task whose guard this delivery won is written for: it has no instances yet,
            # so plain inserts are exact.
            rows.insert_rows(session, models.Instance, [
                {"task_id": task_id, "position": n, "input": x.input, "output": x.output}
                for task_id, (result, _) in outcomes.items() if task_id in won
                for n, x in enumerate(result.instances)
            ])
            rows.insert_rows(session, models.Rejection, [
                rows.rejection_row(pool_id, round_id, r, request_id=request_id, task_id=task_id)
                for task_id, (_, rejections) in outcomes.items() if task_id in won
                for r in rejections
            ])
            kept.update({task_id: len(result.instances) for task_id, (result, _) in outcomes.items()})
    for call, _ in calls:
        raise_if_transient(call)
    return kept
