"""Classification task identification (§2.2): a few-shot Yes/No prompt and its answer parser.

The prompt (``prompts/classification.txt``) holds 31 hand-written ``Task:`` /
``Is it classification? Yes|No`` blocks (12 Yes, 19 No, interleaved) and ends with the
new task followed by ``Is it classification?`` -- no trailing space, so a base model
answers `` Yes`` or `` No``. The answer decides whether instances are generated
output-first (classification) or input-first (everything else).

Several tasks per prompt (``--classify-per-prompt K``, issue 15): the same few-shot block --
byte-identical, so it stays the cached prefix -- then the K tasks numbered ``1.`` .. ``K.`` and a
request for one JSON object ``{"1": "Yes", "2": "No", ...}`` (``prompts/classification_multi.txt``).
:func:`parse_multi_answer` reads it; a task whose answer is missing or not Yes/No is None, and a
reply that is no JSON object leaves every task None: the caller then asks per task.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from generator.records import Reason, Rejection, Stage
from generator.selfinstruct.instructions import normalize_whitespace
from generator.selfinstruct.templates import load_template, render

__all__ = [
    "MULTI_MARKER", "PROMPT_MARKER", "few_shot_block", "parse_classification_answer", "parse_multi_answer",
    "render_classification_prompt", "render_multi_prompt", "unknown_class_rejection",
]

TEMPLATE_NAME = "classification"
MULTI_TEMPLATE_NAME = "classification_multi"
# The single-task prompt's tail; everything before it is the few-shot block both layouts share.
_TASK_TAIL = "\n\nTask: $instruction\nIs it classification?"
_JSON_OBJECT = re.compile(r"\{.*?\}", re.DOTALL)
# Text that only the classification prompt contains; test servers key on it.
PROMPT_MARKER = "Each task below is marked as classification or not."
# Text that only the multi-task prompt contains (after the shared few-shot block).
MULTI_MARKER = "Now mark each numbered task below the same way."
# The question the prompt ends with; the answer follows it on the same line.
QUESTION = "Is it classification?"

# "yes"/"no" as a whole word after optional whitespace; anything may follow a non-word
# character ("Yes.", "No, because ..."), but "Yesterday" or "Nope" is not an answer.
_ANSWER = re.compile(r"\s*(yes|no)(?![\w])", re.IGNORECASE)


def render_classification_prompt(instruction: str) -> str:
    """Render the few-shot prompt for ``instruction`` (whitespace-normalized onto one line).

    One line is required: a newline inside the task would break the ``Task:`` /
    question layout the examples establish.
    """
    return render(load_template(TEMPLATE_NAME), instruction=normalize_whitespace(instruction))


def parse_classification_answer(text: str) -> bool | None:
    """Return ``True`` for yes, ``False`` for no, ``None`` when the answer is neither.

    Accepts leading whitespace, any case and trailing punctuation or words (``" Yes"``,
    ``"YES"``, ``" no."``, ``"No, because"``). Anything else, including ``""`` and
    ``"Maybe"``, is ``None`` -- never a silent ``False`` -- so the caller can retry or
    record ``UNKNOWN_CLASS``.
    """
    match = _ANSWER.match(text)
    if match is None:
        return None
    return match.group(1).lower() == "yes"


def few_shot_block() -> str:
    """The instructions and 31 examples of the single-task prompt, without its final task: the
    static prefix the multi-task prompt starts with (byte-identical)."""
    template = load_template(TEMPLATE_NAME)
    if not template.endswith(_TASK_TAIL):
        raise ValueError("the classification template no longer ends with the task it asks about")
    return template[: -len(_TASK_TAIL)]


def render_multi_prompt(instructions: Sequence[str]) -> str:
    """The prompt judging ``instructions`` together (each whitespace-normalized onto one numbered line)."""
    if not instructions:
        raise ValueError("a multi-task prompt needs at least one task")
    tasks = "\n".join(f"{n}. {normalize_whitespace(text)}" for n, text in enumerate(instructions, 1))
    return render(load_template(MULTI_TEMPLATE_NAME), examples=few_shot_block(), tasks=tasks)


def parse_multi_answer(text: str, count: int) -> list[bool | None]:
    """One answer per task from the JSON reply to a multi-task prompt (``count`` tasks, numbered from 1).

    The first ``{...}`` in the text (code fences and prose around it are ignored) must be a JSON
    object; its value for ``"n"`` is read like a single answer (``"Yes"``, ``"no."``) or as a JSON
    boolean. A missing or unreadable value is None for that task; no parseable object: all None.
    """
    match = _JSON_OBJECT.search(text)
    try:
        data = json.loads(match.group(0)) if match else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return [None] * count
    answers: list[bool | None] = []
    for n in range(1, count + 1):
        value = data.get(str(n))
        if isinstance(value, bool):
            answers.append(value)
        else:
            answers.append(parse_classification_answer(value) if isinstance(value, str) else None)
    return answers


def unknown_class_rejection(instruction: str, replies: Sequence[str]) -> Rejection:
    """Return the ``UNKNOWN_CLASS`` rejection of a task whose answers stayed unparseable (or whose
    request failed for good); ``replies`` are the raw replies (or errors), quoted, in order.
    """
    detail = f"unparseable answers: {' | '.join(replies)}"[:2000]
    return Rejection(Stage.CLASSIFY, Reason.UNKNOWN_CLASS, instruction, detail)
