"""Classification and instance prompts share one fixed, byte-identical prefix per stage (issue 15):
the static few-shot block comes first and the task last, so endpoint prompt caches reuse it."""

from __future__ import annotations

import hashlib

import pytest

from generator.selfinstruct.classification import render_classification_prompt
from generator.selfinstruct.instances import render_instance_prompt

# sha256 and length of each stage's static prefix: everything before the task text. A change to a
# few-shot block must update these on purpose (and it invalidates every endpoint's cached prefix).
PINNED = {
    "classify": (2722, "71a18d90a2ac4c745c4191b3a4f5acbcdf592b72c423c930d989196a9954551d"),
    "output_first": (1164, "8fac79ffa63a4ff47393d1588e89830bfd6994c12baef3ba978d08404e85a6ac"),
    "input_first": (1553, "c49932ff8205562905b7a58fa772662eeee9e80f7f9ea76a17852c8d4201b12c"),
}
RENDER = {
    "classify": render_classification_prompt,
    "output_first": lambda task: render_instance_prompt(task, is_classification=True),
    "input_first": lambda task: render_instance_prompt(task, is_classification=False),
}
TASKS = ("Decide whether the tweet is sarcastic.", "Write a limerick about a forgetful cat.")


def _shared_prefix(a: str, b: str) -> str:
    """The leading characters ``a`` and ``b`` have in common."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


@pytest.mark.parametrize("stage", sorted(PINNED))
def test_two_tasks_share_the_pinned_prefix_byte_for_byte(stage: str) -> None:
    first, second = (RENDER[stage](task) for task in TASKS)
    length, digest = PINNED[stage]
    prefix = first[:length]
    assert second[:length] == prefix
    assert hashlib.sha256(prefix.encode("utf-8")).hexdigest() == digest
    assert prefix.endswith("\n\nTask: ")
    # Everything after the prefix is the task and the stage's fixed tail: the variable part is last.
    assert len(_shared_prefix(first, second)) < length + min(len(t) for t in TASKS)
    assert first[length:].startswith(TASKS[0]) and second[length:].startswith(TASKS[1])


def test_the_classification_prompt_ends_with_the_task_and_the_question() -> None:
    prompt = render_classification_prompt(TASKS[0])
    assert prompt.endswith(f"Task: {TASKS[0]}\nIs it classification?")


def test_the_two_instance_templates_have_different_prefixes() -> None:
    output_first, input_first = RENDER["output_first"](TASKS[0]), RENDER["input_first"](TASKS[0])
    assert len(_shared_prefix(output_first, input_first)) < 20
