"""Several tasks in one classification prompt: the prompt against exact strings, the JSON answer parser."""

from __future__ import annotations

import pytest

from generator.selfinstruct import classification
from generator.selfinstruct.classification import (
    few_shot_block,
    parse_multi_answer,
    render_classification_prompt,
    render_multi_prompt,
)

TAIL = (
    "\n\nNow mark each numbered task below the same way.\n\n"
    "1. Is the review positive or negative?\n"
    "2. Write a poem about the sea.\n\n"
    'Answer with one JSON object and nothing else: each task\'s number as a key, "Yes" or "No" as its '
    'value, for example {"1": "No", "2": "Yes"}.'
)


def test_the_multi_task_prompt_is_the_shared_few_shot_block_then_the_numbered_tasks() -> None:
    prompt = render_multi_prompt(["Is the review  positive\nor negative?", "Write a poem about the sea."])
    assert prompt == few_shot_block() + TAIL


def test_the_few_shot_block_is_byte_for_byte_the_single_task_prompts_prefix() -> None:
    single = render_classification_prompt("Sort the numbers.")
    block = few_shot_block()
    assert single == block + "\n\nTask: Sort the numbers.\nIs it classification?"
    assert block.startswith(classification.PROMPT_MARKER) and block.endswith("Is it classification? Yes")


def test_a_multi_task_prompt_needs_a_task() -> None:
    with pytest.raises(ValueError):
        render_multi_prompt([])


@pytest.mark.parametrize(("text", "expected"), [
    ('{"1": "Yes", "2": "No", "3": "no."}', [True, False, False]),
    ('```json\n{"1": "yes", "2": true, "3": false}\n```', [True, True, False]),
    ('Here you go: {"2": "No"} hope it helps', [None, False, None]),
    ('{"1": "Maybe", "2": 1, "3": null}', [None, None, None]),
])
def test_each_task_reads_its_own_answer_and_a_bad_one_is_none(text: str, expected: list[bool | None]) -> None:
    assert parse_multi_answer(text, 3) == expected


@pytest.mark.parametrize("text", ["", " Yes", '{"1": "Yes", "2"', '["Yes", "No"]', "{not json}"])
def test_a_reply_without_a_json_object_leaves_every_task_unanswered(text: str) -> None:
    assert parse_multi_answer(text, 2) == [None, None]
