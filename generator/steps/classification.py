"""The classify step: ask whether each task of a batch is a classification task (run by the driver)."""

from __future__ import annotations

from collections.abc import Sequence

from generator.db.statuses import TaskStatus
from generator.records import Stage
from generator.selfinstruct import classification
from generator.selfinstruct.params import Decoding, GenerationParams
from generator.steps.context import StepContext, TaskRow
from generator.steps.driver import Outcome, Reply, StatusStep, run_batch_step


class Classification(StatusStep):
    """:class:`~generator.steps.driver.BatchStep` for classification: one retry of an unparseable answer
    (``classification_retries``); an answer that stays unparseable is stored as unknown (None) with
    a rejection, never as "No"; so is a task whose request was refused for good."""

    stage = Stage.CLASSIFY
    waiting_status: str = TaskStatus.PENDING_CLASSIFICATION

    def decoding(self, params: GenerationParams) -> Decoding:
        return params.classification_decoding

    def retries(self, params: GenerationParams) -> int:
        return params.classification_retries

    def prompt(self, task: TaskRow) -> str:
        return classification.render_classification_prompt(task.instruction)

    def read(self, task: TaskRow, text: str, finish_reason: str | None) -> object | None:
        return classification.parse_classification_answer(text)

    def outcome(self, task: TaskRow, replies: Sequence[Reply], params: GenerationParams) -> Outcome:
        answer = replies[-1].answer if replies else None
        values = {"status": TaskStatus.PENDING_INSTANCES, "is_classification": answer}
        increments = {"classification_attempts": len(replies)}
        if answer is not None:
            return Outcome(values, increments)
        quoted = [repr(r.error) if r.error is not None else repr(r.text) for r in replies]
        rejection = classification.unknown_class_rejection(task.instruction, quoted)
        return Outcome(values, increments, rejections=(rejection,))


def classify(ctx: StepContext, task_ids: Sequence[int]) -> dict[int, bool | None]:
    """Classify the tasks (of one round) still waiting for it; returns the answers stored now.

    :func:`~generator.steps.context.batch_size` tasks per request; a request that failed
    transiently leaves its tasks pending and raises LLMTransientError once the others are stored.
    """
    outcomes = run_batch_step(ctx, Classification(), task_ids)
    return {task_id: _answer(o) for task_id, o in outcomes.items()}


def _answer(outcome: Outcome) -> bool | None:
    value = outcome.values["is_classification"]
    return value if isinstance(value, bool) else None
