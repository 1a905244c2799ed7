"""The one batch-step driver: classification and instances (and, later, tagging) are steps it runs.

A step (:class:`BatchStep`) says three things: the prompt of a task, what one reply means
(``read``: a parsed answer, or None for "no usable answer: ask again while retries last"), and
what a task's replies become (``outcome``: column updates, instances, rejections — the
rejections built by the pure modules in :mod:`generator.selfinstruct`). :func:`run_batch_step`
does the rest, the same way for every step:

1. read the tasks among the ids still in ``step.waiting_status`` (one round's);
2. send their prompts ``batch_size`` per request; ask again, together, the tasks whose reply was
   not usable, ``step.retries`` times at most;
3. in one transaction: store every request, then — for the tasks whose status guard this
   delivery wins — the column updates (one UPDATE), instances and rejections;
4. leave the tasks of a request that failed transiently pending, and raise LLMTransientError
   once everything else is stored. A request refused for good settles its tasks (the outcome
   sees the error) and is counted by the round policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

from generator.db import models, rows
from generator.db.tasks import settle_tasks
from generator.records import Instance, LLMCall, Rejection, Stage
from generator.selfinstruct.params import Decoding, GenerationParams
from generator.steps.context import (
    StepContext,
    TaskRow,
    batch_size,
    chunked,
    open_tasks,
    raise_if_transient,
    request_row,
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply to a task's prompt: its text and finish reason, what ``read`` made of it, or the
    request's error (then ``text`` is empty)."""

    text: str
    finish_reason: str | None = None
    answer: object | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a task's replies become: task columns to set (its new status among them), integer
    columns to add to, instances to insert, rejections to store."""

    values: Mapping[str, object]
    increments: Mapping[str, int] = field(default_factory=dict)
    instances: tuple[Instance, ...] = ()
    rejections: tuple[Rejection, ...] = ()


class BatchStep(Protocol):
    """A step the driver runs over a batch of tasks (see the module docstring)."""

    stage: Stage
    waiting_status: str  # the tasks it works on are in this status; every outcome moves them on

    def decoding(self, params: GenerationParams) -> Decoding: ...

    def retries(self, params: GenerationParams) -> int: ...

    def prompt(self, task: TaskRow) -> str: ...

    def read(self, task: TaskRow, text: str, finish_reason: str | None) -> object | None: ...

    def outcome(self, task: TaskRow, replies: Sequence[Reply], params: GenerationParams) -> Outcome: ...


class GroupingStep(BatchStep, Protocol):
    """A step that may judge ``per_prompt`` tasks in one prompt on its first attempt (retries: one each)."""

    per_prompt: int

    def group_decoding(self, params: GenerationParams, count: int) -> Decoding: ...

    def group_prompt(self, tasks: Sequence[TaskRow]) -> str: ...

    def read_group(self, tasks: Sequence[TaskRow], text: str,
                   finish_reason: str | None) -> list[object | None]: ...


@dataclass
class _Asked:
    task: TaskRow
    replies: list[Reply] = field(default_factory=list)
    request: int = -1           # index of the call that gave the last reply
    transient: bool = False     # the last request failed transiently: the task stays pending

    @property
    def usable(self) -> bool:
        last = self.replies[-1] if self.replies else None
        return last is not None and (last.answer is not None or last.error is not None)


def run_batch_step(ctx: StepContext, step: BatchStep, task_ids: Sequence[int]) -> dict[int, Outcome]:
    """Run ``step`` over the tasks among ``task_ids`` still waiting for it; the outcomes stored now."""
    tasks = open_tasks(ctx, task_ids, step.waiting_status)
    if not tasks:
        return {}
    asked = [_Asked(t) for t in tasks]
    calls = _ask_all(ctx, step, asked)
    settled = {a.task.id: (a, step.outcome(a.task, a.replies, ctx.params)) for a in asked if not a.transient}
    won = _store(ctx, step, tasks[0], calls, settled)
    for call, _ in calls:
        raise_if_transient(call)
    return {task_id: outcome for task_id, (_, outcome) in settled.items() if task_id in won}


Sent = list[tuple[LLMCall, list[int]]]  # each request and the tasks of its prompts, in order


def _ask_all(ctx: StepContext, step: BatchStep, asked: list[_Asked]) -> Sent:
    """Send the prompts in batches, then again for the unusable replies while retries last."""
    calls: Sent = []
    asking = asked
    for attempt in range(1 + step.retries(ctx.params)):
        # A grouping step asks several tasks per prompt first; what stays unusable is asked one by one.
        group = getattr(step, "per_prompt", 1) if attempt == 0 else 1
        for batch in chunked(asking, batch_size(ctx) * group):
            calls.append((_ask(ctx, step, batch, group), [a.task.id for a in batch]))
            for a in batch:
                a.request = len(calls) - 1
        asking = [a for a in asking if not a.usable and not a.transient]
        if not asking:
            break
    return calls


def _ask(ctx: StepContext, step: BatchStep, batch: list[_Asked], group: int = 1) -> LLMCall:
    if group > 1:
        return _ask_grouped(ctx, cast(GroupingStep, step), batch, group)
    call = ctx.client.complete([step.prompt(a.task) for a in batch], step.decoding(ctx.params), step.stage)
    if call.error is not None:
        for a in batch:
            a.replies.append(Reply("", None, None, call.error))
            a.transient = call.transient
        return call
    for a, choice in zip(batch, call.choices, strict=True):
        answer = step.read(a.task, choice.text, choice.finish_reason)
        a.replies.append(Reply(choice.text, choice.finish_reason, answer))
    return call


def _ask_grouped(ctx: StepContext, step: GroupingStep, batch: list[_Asked], group: int) -> LLMCall:
    """One prompt per ``group`` tasks; every task of a prompt gets its reply's text and its own answer."""
    groups = list(chunked(batch, group))
    prompts = [step.group_prompt([a.task for a in g]) for g in groups]
    call = ctx.client.complete(prompts, step.group_decoding(ctx.params, group), step.stage)
    if call.error is not None:
        for a in batch:
            a.replies.append(Reply("", None, None, call.error))
            a.transient = call.transient
        return call
    for g, choice in zip(groups, call.choices, strict=True):
        answers = step.read_group([a.task for a in g], choice.text, choice.finish_reason)
        for a, answer in zip(g, answers, strict=True):
            a.replies.append(Reply(choice.text, choice.finish_reason, answer))
    return call


def _store(ctx: StepContext, step: BatchStep, first: TaskRow, calls: Sent,
           settled: Mapping[int, tuple[_Asked, Outcome]]) -> set[int]:
    """Every request, then what the tasks whose guard wins become, in one transaction."""
    pool_id, round_id = first.pool_id, first.round_id
    with ctx.sessions.begin() as session:
        request_ids = [rows.insert_request(session, request_row(ctx, pool_id, round_id, call, ids))
                       for call, ids in calls]
        won = settle_tasks(session, step.waiting_status, {i: o.values for i, (_, o) in settled.items()},
                           {i: o.increments for i, (_, o) in settled.items()})
        # Only a task whose guard this delivery won is written for: plain inserts are exact.
        rows.insert_rows(session, models.Instance, [
            {"task_id": i, "position": n, "input": x.input, "output": x.output}
            for i, (_, o) in settled.items() if i in won for n, x in enumerate(o.instances)
        ])
        rows.insert_rows(session, models.Rejection, [
            rows.rejection_row(pool_id, round_id, r, request_id=request_ids[a.request], task_id=i)
            for i, (a, o) in settled.items() if i in won for r in o.rejections
        ])
    return won
