"""Classification task identification (§2.2): a few-shot Yes/No prompt and its answer parser.

The prompt (``prompts/classification.txt``) holds 31 hand-written ``Task:`` /
``Is it classification? Yes|No`` blocks (12 Yes, 19 No, interleaved) and ends with the
new task followed by ``Is it classification?`` -- no trailing space, so a base model
answers `` Yes`` or `` No``. The answer decides whether instances are generated
output-first (classification) or input-first (everything else).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from generator.records import Reason, Rejection, Stage
from generator.selfinstruct.instructions import normalize_whitespace
from generator.selfinstruct.templates import load_template, render

__all__ = [
    "PROMPT_MARKER", "parse_classification_answer", "render_classification_prompt", "unknown_class_rejection",
]

TEMPLATE_NAME = "classification"
# Text that only the classification prompt contains; test servers key on it.
PROMPT_MARKER = "Each task below is marked as classification or not."
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


def unknown_class_rejection(instruction: str, replies: Sequence[str]) -> Rejection:
    """Return the ``UNKNOWN_CLASS`` rejection of a task whose answers stayed unparseable (or whose
    request failed for good); ``replies`` are the raw replies (or errors), quoted, in order.
    """
    detail = f"unparseable answers: {' | '.join(replies)}"[:2000]
    return Rejection(Stage.CLASSIFY, Reason.UNKNOWN_CLASS, instruction, detail)
