"""Classification prompt and answer parsing (generator/selfinstruct/classification.py)."""

from __future__ import annotations

import pytest

from generator.selfinstruct import classification, instances, instructions
from generator.selfinstruct.classification import parse_classification_answer, render_classification_prompt
from generator.testing.responders import SelfInstructResponder

HEADER = (
    "Each task below is marked as classification or not. A classification task asks for an answer "
    "picked from a small, fixed set of labels, such as yes/no, true/false or a list of categories.\n\n"
    "Task: Write a short poem about rain on a tin roof.\nIs it classification? No\n\n"
)
TAIL = (
    "Task: Rate the tone of the text as formal or informal.\nIs it classification? Yes\n\n"
    "Task: Is the review positive?\nIs it classification?"
)


def test_render_has_the_exact_header_and_ends_with_the_task_and_the_bare_question() -> None:
    prompt = render_classification_prompt("Is the review positive?")
    assert prompt.startswith(HEADER)
    assert prompt.endswith(TAIL)


def test_render_puts_the_instruction_on_one_line() -> None:
    prompt = render_classification_prompt("  Is the review\n  positive? ")
    assert prompt.endswith("Task: Is the review positive?\nIs it classification?")


def test_prompt_holds_twelve_yes_and_nineteen_no_examples_in_mixed_order() -> None:
    prompt = render_classification_prompt("Is the review positive?")
    answers = [
        line.rsplit(" ", 1)[1] for line in prompt.splitlines() if line.startswith("Is it classification? ")
    ]
    assert answers.count("Yes") == 12 and answers.count("No") == 19
    assert "Yes" in answers[:5] and "No" in answers[-5:]


def test_prompt_is_short_enough_for_a_small_context() -> None:
    assert len(render_classification_prompt("Is the review positive?")) < 4500


def test_prompt_contains_its_marker_and_no_other_stage_marker() -> None:
    prompt = render_classification_prompt("Is the review positive?")
    assert classification.PROMPT_MARKER in prompt
    others = (instructions.PROMPT_MARKER, instances.INPUT_FIRST_MARKER, instances.OUTPUT_FIRST_MARKER)
    assert not any(marker in prompt for marker in others)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (" Yes", True),
        ("Yes", True),
        ("YES", True),
        (" yes.", True),
        ("\n Yes, it picks a label", True),
        (" No", False),
        (" no.", False),
        ("NO", False),
        ("No, because it asks for text", False),
        (" Maybe", None),
        ("", None),
        ("   ", None),
        (" Yesterday", None),
        (" Nope", None),
        (" I think yes", None),
    ],
)
def test_parse_answer(answer: str, expected: bool | None) -> None:
    assert parse_classification_answer(answer) is expected


def test_responder_answers_parse_and_are_stable_per_instruction() -> None:
    responder = SelfInstructResponder()
    tasks = [f"Decide whether sentence number {i} is sarcastic." for i in range(30)]
    answers = [parse_classification_answer(responder(render_classification_prompt(t))) for t in tasks]
    assert set(answers) == {True, False}
    again = [
        parse_classification_answer(SelfInstructResponder(seed=9)(render_classification_prompt(t)))
        for t in tasks
    ]
    assert answers == again


def test_responder_garbage_is_never_read_as_an_answer() -> None:
    responder = SelfInstructResponder(garbage_rate=1.0)
    assert parse_classification_answer(responder(render_classification_prompt("Is it spam?"))) is None
