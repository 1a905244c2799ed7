"""The classify step: ask whether each task of a batch is a classification task (run by the driver).

With ``classify_per_prompt`` K > 1 (issue 15) the first attempt judges K tasks per prompt with a
JSON answer (:func:`generator.selfinstruct.classification.render_multi_prompt`); a task whose part
of the answer is missing or malformed is asked again on its own (the single-task prompt), and one
that stays unparseable is stored as unknown with a rejection -- never a crash, never a silent "No".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.db.statuses import TaskStatus
from generator.errors import ConfigError
from generator.records import Stage
from generator.selfinstruct import classification
from generator.selfinstruct.params import Decoding, GenerationParams
from generator.settings import Settings
from generator.steps.context import StepContext, TaskRow
from generator.steps.driver import Outcome, Reply, StatusStep, run_batch_step

# Tokens of a JSON answer per task ('"12": "Yes", ' is about 7), plus the braces and some slack.
_JSON_TOKENS_PER_TASK = 8
_JSON_TOKENS_EXTRA = 16


def classify_per_prompt(settings: Settings, api: str | None = None) -> int:
    """Tasks judged per classification prompt: ``settings.classify_per_prompt``; ``api`` is the client's
    (default: what the settings give -- the embedded default is a completions model).

    ConfigError for K > 1 on a completions (base) model -- the embedded default among them -- unless
    ``classify_per_prompt_agreement`` says the agreement with single-task answers was measured there.
    """
    k = settings.classify_per_prompt
    api = api or ("completions" if settings.embedded else settings.llm_api)
    if k > 1 and api != "chat" and settings.classify_per_prompt_agreement is None:
        raise ConfigError(
            f"SELFINSTRUCT_CLASSIFY_PER_PROMPT={k} is for chat models: a base/completions model needs its "
            "agreement with single-task answers measured first (bench/tokens.py --classify-agreement) and "
            "set as SELFINSTRUCT_CLASSIFY_PER_PROMPT_AGREEMENT")
    return k


@dataclass
class Classification(StatusStep):
    """:class:`~generator.steps.driver.BatchStep` for classification: one retry of an unparseable answer
    (``classification_retries``); an answer that stays unparseable is stored as unknown (None) with
    a rejection, never as "No"; so is a task whose request was refused for good. ``per_prompt`` > 1
    makes it a :class:`~generator.steps.driver.GroupingStep` (see the module docstring)."""

    per_prompt: int = 1
    stage = Stage.CLASSIFY
    waiting_status: str = TaskStatus.PENDING_CLASSIFICATION

    def decoding(self, params: GenerationParams) -> Decoding:
        return params.classification_decoding

    def group_decoding(self, params: GenerationParams, count: int) -> Decoding:
        """Greedy like the single answer, long enough for ``count`` JSON entries, stopping at nothing
        but the end (the object spans lines)."""
        single = params.classification_decoding
        return Decoding(single.temperature, single.top_p, _JSON_TOKENS_EXTRA + _JSON_TOKENS_PER_TASK * count)

    def retries(self, params: GenerationParams) -> int:
        return params.classification_retries

    def prompt(self, task: TaskRow) -> str:
        return classification.render_classification_prompt(task.instruction)

    def group_prompt(self, tasks: Sequence[TaskRow]) -> str:
        return classification.render_multi_prompt([t.instruction for t in tasks])

    def read(self, task: TaskRow, text: str, finish_reason: str | None) -> object | None:
        return classification.parse_classification_answer(text)

    def read_group(self, tasks: Sequence[TaskRow], text: str,
                   finish_reason: str | None) -> list[object | None]:
        return list(classification.parse_multi_answer(text, len(tasks)))

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

    :func:`~generator.steps.context.batch_size` prompts per request (each of
    :func:`classify_per_prompt` tasks); a request that failed transiently leaves its tasks pending
    and raises LLMTransientError once the others are stored.
    """
    step = Classification(per_prompt=classify_per_prompt(ctx.settings, ctx.client.api))
    outcomes = run_batch_step(ctx, step, task_ids)
    return {task_id: _answer(o) for task_id, o in outcomes.items()}


def _answer(outcome: Outcome) -> bool | None:
    value = outcome.values["is_classification"]
    return value if isinstance(value, bool) else None
