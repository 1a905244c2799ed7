"""The instances step: make, parse and filter examples for a batch of classified tasks (driver-run)."""

from __future__ import annotations

from collections.abc import Sequence

from generator.db.statuses import TaskStatus
from generator.records import Stage
from generator.selfinstruct import instances
from generator.selfinstruct.params import Decoding, GenerationParams
from generator.steps.context import StepContext, TaskRow
from generator.steps.driver import Outcome, Reply, StatusStep, run_batch_step


class Instances(StatusStep):
    """:class:`~generator.steps.driver.BatchStep` for instances: output-first prompts for classification
    tasks, input-first otherwise; one ask; a task ends ``complete`` with its kept instances or
    ``no_instances`` with the rejection the pure module builds."""

    stage = Stage.INSTANCES
    waiting_status: str = TaskStatus.PENDING_INSTANCES

    def decoding(self, params: GenerationParams) -> Decoding:
        return params.instance_decoding

    def retries(self, params: GenerationParams) -> int:
        return 0

    def prompt(self, task: TaskRow) -> str:
        return instances.render_instance_prompt(task.instruction, bool(task.is_classification))

    def read(self, task: TaskRow, text: str, finish_reason: str | None) -> object | None:
        return text  # parsed in ``outcome``, with the params

    def outcome(self, task: TaskRow, replies: Sequence[Reply], params: GenerationParams) -> Outcome:
        reply = replies[-1]
        result = instances.instances_outcome(task.instruction, reply.text, bool(task.is_classification),
                                             reply.finish_reason, params, reply.error)
        status = TaskStatus.COMPLETE if result.instances else TaskStatus.NO_INSTANCES
        return Outcome({"status": status}, instances=result.instances, rejections=result.rejections)


def make_instances(ctx: StepContext, task_ids: Sequence[int]) -> dict[int, int]:
    """Make instances for the tasks (of one round) waiting for them; returns kept counts by task id.

    Tasks of a request that failed transiently stay pending (LLMTransientError is raised once the
    others are stored).
    """
    outcomes = run_batch_step(ctx, Instances(), task_ids)
    return {task_id: len(o.instances) for task_id, o in outcomes.items()}
