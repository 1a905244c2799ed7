"""The hinted generation prompt against exact strings (generator/steering/hints.py)."""

from __future__ import annotations

import pytest

from generator.selfinstruct.instructions import (
    PROMPT_MARKER,
    parse_instruction_completion,
    render_instruction_prompt,
)
from generator.selfinstruct.params import GenerationParams
from generator.steering import Example, PromptPlan, Strategy
from generator.steering.hints import hint_sentence, join_tags, render_steered_prompt

PARAMS = GenerationParams()
EXAMPLES = (Example(1, "Name a fruit."), Example(2, "Sort  these\nnumbers."))
HEADER = (
    "Here is a numbered list of tasks that people might ask a helpful assistant to do. The tasks are as "
    "varied as possible: they come from many fields, are worded in different ways and expect different "
    "kinds of answers, from a single word to a few paragraphs."
)


def test_tags_are_joined_as_an_english_list() -> None:
    assert join_tags(["a"]) == "a"
    assert join_tags(["a", "b"]) == "a and b"
    assert join_tags(["a", " b\nc ", "d"]) == "a, b c and d"


def test_the_hint_sentence_names_the_tags() -> None:
    assert hint_sentence(["chess", "tax law"]) == (
        "Some of them are about chess and tax law, which the list has covered least so far."
    )
    with pytest.raises(ValueError):
        hint_sentence([])


def test_a_hinted_prompt_appends_the_hint_to_the_header_and_keeps_the_list() -> None:
    plan = PromptPlan(Strategy.TAG_HINTS, EXAMPLES, ("chess", "poetry", "tax law"))
    assert render_steered_prompt(plan, PARAMS) == (
        HEADER + " Some of them are about chess, poetry and tax law, which the list has covered least so far."
        "\n\n1. Name a fruit.\n2. Sort these numbers.\n3."
    )


def test_the_hinted_prompt_keeps_the_marker_and_its_continuation_still_parses() -> None:
    prompt = render_steered_prompt(PromptPlan(Strategy.TAG_HINTS, EXAMPLES, ("chess",)), PARAMS)
    assert PROMPT_MARKER in prompt and prompt.endswith("\n3.")
    parsed = parse_instruction_completion(" Suggest an opening in chess.\n4. Write a short poem.", 3, "stop",
                                          PARAMS)
    assert parsed.instructions == ("Suggest an opening in chess.", "Write a short poem.")


def test_other_strategies_and_an_empty_hint_give_the_plain_prompt() -> None:
    plain = render_instruction_prompt([e.instruction for e in EXAMPLES], PARAMS)
    for plan in (PromptPlan(Strategy.NONE, EXAMPLES),
                 PromptPlan(Strategy.RARE_EXAMPLES, EXAMPLES, ("chess",)),
                 PromptPlan(Strategy.TAG_HINTS, EXAMPLES)):
        assert render_steered_prompt(plan, PARAMS) == plain
