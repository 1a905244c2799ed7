"""The one batch-step driver: classification, instances and tagging are steps it runs.

A step (:class:`BatchStep`) says what it works on (``open``: the tasks among some ids still
waiting for it), the prompt of a task, what one reply means (``read``: a parsed answer, or None
for "no usable answer: ask again while retries last"), what a task's replies become
(``outcome``), and how the outcomes are written (``write``: only for the tasks whose guard this
delivery wins). :func:`run_batch_step` does the rest, the same way for every step:

1. ``step.open`` the tasks among the ids (one round's);
2. send their prompts ``batch_size`` per request; ask again, together, the tasks whose reply was
   not usable, ``step.retries`` times at most (:func:`generator.llm.batching.ask_all`, the loop the
   InsTag tagger runs too);
3. in one transaction: store every request, then ``step.write`` the outcomes (each knows the
   request of its task's last reply);
4. leave the tasks of a request that failed transiently waiting, and raise LLMTransientError
   once everything else is stored. A request refused for good settles its tasks (the outcome
   sees the error) and is counted by the round policy.

:class:`StatusStep` is the guard of steps that move a task's status (classification, instances):
one guarded UPDATE of the task columns, then instances and rejections. The tag step writes its
own table instead (``task_taggings``, one row per task: the unique key is its guard).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar, cast

from sqlalchemy.orm import Session

from generator.db import models, rows
from generator.db.tasks import settle_tasks
from generator.llm.batching import Asked, Asking, Grouping, Reply, ask_all
from generator.records import Instance, LLMCall, Rejection, Stage
from generator.selfinstruct.params import Decoding, GenerationParams
from generator.steps.context import (
    StepContext,
    TaskRow,
    batch_size,
    failed_transiently,
    open_tasks,
    raise_if_transient,
    request_row,
)


class StepTask(Protocol):
    """What the driver reads of a task: its id, and the pool and round its requests are stored under."""

    @property
    def id(self) -> int: ...

    @property
    def pool_id(self) -> int: ...

    @property
    def round_id(self) -> int | None: ...


TaskT = TypeVar("TaskT", bound=StepTask)
OutcomeT = TypeVar("OutcomeT")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a status step's task becomes: task columns to set (its new status among them), integer
    columns to add to, instances to insert, rejections to store."""

    values: Mapping[str, object]
    increments: Mapping[str, int] = field(default_factory=dict)
    instances: tuple[Instance, ...] = ()
    rejections: tuple[Rejection, ...] = ()


@dataclass(frozen=True, slots=True)
class Settled(Generic[TaskT, OutcomeT]):
    """A task whose replies are in: its outcome, how often it was asked, the request of its last reply."""

    task: TaskT
    outcome: OutcomeT
    attempts: int
    request_id: int | None


class BatchStep(Protocol[TaskT, OutcomeT]):
    """A step the driver runs over a batch of tasks (see the module docstring)."""

    stage: Stage

    def open(self, ctx: StepContext, task_ids: Sequence[int]) -> list[TaskT]: ...

    def decoding(self, params: GenerationParams) -> Decoding: ...

    def retries(self, params: GenerationParams) -> int: ...

    def prompt(self, task: TaskT) -> str: ...

    def read(self, task: TaskT, text: str, finish_reason: str | None) -> object | None: ...

    def outcome(self, task: TaskT, replies: Sequence[Reply], params: GenerationParams) -> OutcomeT: ...

    def write(self, session: Session, settled: Sequence[Settled[TaskT, OutcomeT]]) -> set[int]:
        """Store the outcomes whose guard this delivery wins; returns their task ids."""
        ...


class GroupingStep(Protocol):
    """A step that may judge ``per_prompt`` tasks in one prompt on its first attempt (retries: one each)."""

    per_prompt: int

    def group_decoding(self, params: GenerationParams, count: int) -> Decoding: ...

    def group_prompt(self, tasks: Sequence[TaskRow]) -> str: ...

    def read_group(self, tasks: Sequence[TaskRow], text: str,
                   finish_reason: str | None) -> list[object | None]: ...


def _grouping(ctx: StepContext, step: object) -> Grouping[TaskRow] | None:
    """The step's grouping when it judges several tasks per prompt, else None."""
    per_prompt = getattr(step, "per_prompt", 1)
    if per_prompt <= 1:
        return None
    grouped = cast(GroupingStep, step)
    return Grouping(per_prompt, grouped.group_prompt, grouped.read_group,
                    grouped.group_decoding(ctx.params, per_prompt))


class StatusStep:
    """Open and write for steps that move a task on from ``waiting_status`` (see the module docstring)."""

    waiting_status: str

    def open(self, ctx: StepContext, task_ids: Sequence[int]) -> list[TaskRow]:
        return open_tasks(ctx, task_ids, self.waiting_status)

    def write(self, session: Session, settled: Sequence[Settled[TaskRow, Outcome]]) -> set[int]:
        if not settled:
            return set()
        won = settle_tasks(session, self.waiting_status, {s.task.id: s.outcome.values for s in settled},
                           {s.task.id: s.outcome.increments for s in settled})
        # Only a task whose guard this delivery won is written for: plain inserts are exact.
        mine = [s for s in settled if s.task.id in won]
        rows.insert_rows(session, models.Instance, [
            {"task_id": s.task.id, "position": n, "input": x.input, "output": x.output}
            for s in mine for n, x in enumerate(s.outcome.instances)
        ])
        rows.insert_rows(session, models.Rejection, [
            rows.rejection_row(s.task.pool_id, s.task.round_id, r, request_id=s.request_id, task_id=s.task.id)
            for s in mine for r in s.outcome.rejections
        ])
        return won


@dataclass(frozen=True, slots=True)
class StepRun(Generic[OutcomeT]):
    """What one driver run stored (outcomes by task id) and how many tasks it left waiting."""

    outcomes: dict[int, OutcomeT]
    left_waiting: int
    calls: tuple[LLMCall, ...]


def run_batch_step(ctx: StepContext, step: BatchStep[TaskT, OutcomeT],
                   task_ids: Sequence[int]) -> dict[int, OutcomeT]:
    """Run ``step`` over the tasks among ``task_ids`` still waiting for it; the outcomes stored now.

    Raises LLMTransientError (after storing everything else) if a request failed transiently."""
    run = drive(ctx, step, task_ids)
    for call in run.calls:
        raise_if_transient(call)
    return run.outcomes


def drive(ctx: StepContext, step: BatchStep[TaskT, OutcomeT], task_ids: Sequence[int]) -> StepRun[OutcomeT]:
    """:func:`run_batch_step` without the raise: the caller decides what tasks left waiting mean."""
    tasks = step.open(ctx, task_ids)
    if not tasks:
        return StepRun({}, 0, ())
    asked = [Asked(t) for t in tasks]
    asking = Asking(step.prompt, step.read, step.decoding(ctx.params), step.stage, batch_size(ctx),
                    step.retries(ctx.params), cast(Grouping[TaskT] | None, _grouping(ctx, step)))
    calls = ask_all(ctx.client, asking, asked)
    done = [a for a in asked if not a.transient]
    outcomes = {a.item.id: step.outcome(a.item, a.replies, ctx.params) for a in done}
    pool_id, round_id = tasks[0].pool_id, tasks[0].round_id
    with ctx.sessions.begin() as session:
        request_ids = [rows.insert_request(session, request_row(ctx, pool_id, round_id, call,
                                                                [tasks[i].id for i in positions]))
                       for call, positions in calls]
        settled = [Settled(a.item, outcomes[a.item.id], len(a.replies), request_ids[a.request]) for a in done]
        won = step.write(session, settled)
    return StepRun({i: o for i, o in outcomes.items() if i in won}, len(asked) - len(done),
                   tuple(c for c, _ in calls if failed_transiently(c)))


__all__ = ["BatchStep", "GroupingStep", "Outcome", "Reply", "Settled", "StatusStep", "StepRun", "StepTask",
           "drive", "run_batch_step"]
