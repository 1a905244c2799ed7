"""Instruction prompts, in-context selection and completion parsing (selfinstruct/instructions.py)."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest

from generator.records import ParsedInstructions, Reason, Rejection, Stage
from generator.selfinstruct import instructions
from generator.selfinstruct.filters import filter_instruction
from generator.selfinstruct.instructions import (
    parse_instruction_completion,
    render_instruction_prompt,
    select_prompt_instructions,
)
from generator.selfinstruct.params import GenerationParams
from generator.testing.responders import NEAR_DUPLICATE_SUFFIX, SelfInstructResponder

PARAMS = GenerationParams()
HEADER = (
    "Here is a numbered list of tasks that people might ask a helpful assistant to do. The tasks are as "
    "varied as possible: they come from many fields, are worded in different ways and expect different "
    "kinds of answers, from a single word to a few paragraphs.\n\n"
)
SEEDS = [f"Seed task number {i} about something." for i in range(20)]
MACHINE = [f"Machine task number {i} about something." for i in range(10)]


def parse(
    completion: str, finish_reason: str | None = "stop", params: GenerationParams = PARAMS
) -> ParsedInstructions:
    return parse_instruction_completion(completion, 9, finish_reason, params)


# --- rendering -------------------------------------------------------------------------------------


def test_render_numbers_the_instructions_and_ends_with_the_bare_next_number() -> None:
    prompt = render_instruction_prompt(
        ["Say hello to the team.", "Name three colors of the rainbow."], PARAMS
    )
    assert prompt == HEADER + "1. Say hello to the team.\n2. Name three colors of the rainbow.\n3."
    assert instructions.PROMPT_MARKER in HEADER


def test_render_puts_each_instruction_on_one_line_with_single_spaces() -> None:
    prompt = render_instruction_prompt(["  Sort these\nwords:\t apple,  pear. "], PARAMS)
    assert prompt == HEADER + "1. Sort these words: apple, pear.\n2."


def test_render_of_eight_instructions_asks_for_item_nine() -> None:
    prompt = render_instruction_prompt([f"Task {i}." for i in range(1, 9)], PARAMS)
    expected = "".join(f"{i}. Task {i}.\n" for i in range(1, 9)) + "9."
    assert prompt == HEADER + expected


def test_render_refuses_a_list_that_leaves_no_item_before_the_limit() -> None:
    with pytest.raises(ValueError, match="no item before 16"):
        render_instruction_prompt([f"Task {i}." for i in range(15)], PARAMS)


# --- selection -------------------------------------------------------------------------------------


def test_select_takes_six_seeds_and_two_machine_instructions() -> None:
    chosen = select_prompt_instructions(SEEDS, MACHINE, PARAMS, random.Random(1))
    assert len(chosen) == 8
    assert sum(text in MACHINE for text in chosen) == 2
    assert sum(text in SEEDS for text in chosen) == 6
    assert len(set(chosen)) == 8


def test_select_uses_eight_seeds_before_any_machine_instruction_exists() -> None:
    chosen = select_prompt_instructions(SEEDS, [], PARAMS, random.Random(1))
    assert len(chosen) == 8 and set(chosen) <= set(SEEDS)


def test_select_fills_with_seeds_when_only_one_machine_instruction_exists() -> None:
    chosen = select_prompt_instructions(SEEDS, MACHINE[:1], PARAMS, random.Random(1))
    assert MACHINE[0] in chosen and len(chosen) == 8


def test_select_fills_with_machine_instructions_when_seeds_are_few_and_takes_all_when_both_are() -> None:
    chosen = select_prompt_instructions(SEEDS[:3], MACHINE, PARAMS, random.Random(1))
    assert set(SEEDS[:3]) <= set(chosen) and len(chosen) == 8
    few = select_prompt_instructions(SEEDS[:2], MACHINE[:1], PARAMS, random.Random(1))
    assert sorted(few) == sorted(SEEDS[:2] + MACHINE[:1])


def test_select_is_reproducible_for_a_given_rng_seed() -> None:
    first = select_prompt_instructions(SEEDS, MACHINE, PARAMS, random.Random(7))
    assert first == select_prompt_instructions(SEEDS, MACHINE, PARAMS, random.Random(7))


def test_select_shuffles_so_machine_instructions_are_not_always_first() -> None:
    positions = {
        select_prompt_instructions(SEEDS, MACHINE, PARAMS, random.Random(seed)).index(text)
        for seed in range(30)
        for text in select_prompt_instructions(SEEDS, MACHINE, PARAMS, random.Random(seed))
        if text in MACHINE
    }
    assert len(positions) > 4


# --- parsing ---------------------------------------------------------------------------------------


def test_parse_reads_item_nine_and_the_following_numbered_items() -> None:
    parsed = parse(" Plan a picnic for six people.\n10. Explain the rules of chess.\n11. Name a fast bird.")
    assert parsed == ParsedInstructions(
        instructions=("Plan a picnic for six people.", "Explain the rules of chess.", "Name a fast bird.")
    )


def test_parse_joins_an_item_spanning_several_lines_and_collapses_whitespace() -> None:
    parsed = parse(" Sort the fruits\nby   color:\n  apples, bananas\n10. Tell a joke.")
    assert parsed.instructions == ("Sort the fruits by color: apples, bananas", "Tell a joke.")


def test_parse_accepts_space_before_dot_and_parenthesis_numbering() -> None:
    parsed = parse(" First task here.\n10 . Second task here.\n11) Third task here.")
    assert parsed.instructions == ("First task here.", "Second task here.", "Third task here.")


def test_parse_keeps_lines_with_other_numbers_inside_the_current_item() -> None:
    parsed = parse(
        " Follow the recipe steps:\n1. Mix flour.\n2. Bake it.\n10.5 percent is a lot\n10. Next task."
    )
    assert parsed.instructions == (
        "Follow the recipe steps: 1. Mix flour. 2. Bake it. 10.5 percent is a lot",
        "Next task.",
    )


def test_parse_drops_only_the_truncated_last_item_when_finish_reason_is_length() -> None:
    parsed = parse(" Plan a picnic for six people.\n10. Explain the rules of", finish_reason="length")
    assert parsed == ParsedInstructions(
        instructions=("Plan a picnic for six people.",),
        rejections=(
            Rejection(
                stage=Stage.GENERATE,
                reason=Reason.TRUNCATED,
                text="Explain the rules of",
                detail="finish_reason=length: the last item may be cut",
            ),
        ),
    )


def test_parse_of_a_single_truncated_item_records_truncated_not_unparseable() -> None:
    parsed = parse(" Explain the rules of", finish_reason="length")
    assert parsed.instructions == ()
    assert [r.reason for r in parsed.rejections] == [Reason.TRUNCATED]


def test_parse_ignores_item_sixteen_and_everything_after_it() -> None:
    completion = " Task nine.\n" + "".join(f"{n}. Task {n}.\n" for n in range(10, 18))
    parsed = parse(completion, finish_reason="length")
    assert parsed.instructions == ("Task nine.", *(f"Task {n}." for n in range(10, 16)))
    assert parsed.rejections == ()  # "16." proves item 15 ended, so nothing was cut


def test_parse_skips_empty_items_silently() -> None:
    parsed = parse("\n10.\n11. Name a fast bird.\n12.   ")
    assert parsed == ParsedInstructions(instructions=("Name a fast bird.",))


@pytest.mark.parametrize("completion", ["", "   \n  ", "\n10.\n11."])
def test_parse_of_a_completion_without_text_is_one_unparseable_rejection(completion: str) -> None:
    parsed = parse(completion)
    assert parsed == ParsedInstructions(
        instructions=(),
        rejections=(Rejection(Stage.GENERATE, Reason.UNPARSEABLE, completion, "no list item with text"),),
    )


def test_unparseable_rejection_keeps_at_most_500_characters_of_the_raw_completion() -> None:
    completion = "\n10." + " " * 1000
    assert parse(completion).rejections[0].text == completion[:500]


def test_parse_keeps_case_by_default() -> None:
    assert parse(" Explain what NASA does.").instructions == ("Explain what NASA does.",)


def test_parse_with_lowercase_compat_lowercases_everything_after_the_first_character() -> None:
    params = GenerationParams(lowercase_compat=True)
    assert parse(" Explain what NASA does.", params=params).instructions == ("Explain what nasa does.",)


def test_parse_refuses_a_first_number_outside_the_list() -> None:
    with pytest.raises(ValueError, match="first_number"):
        parse_instruction_completion(" x", 16, "stop", PARAMS)


# --- the test responder ----------------------------------------------------------------------------


def responder_prompt() -> str:
    return render_instruction_prompt(SEEDS[:8], PARAMS)


def test_responder_continuation_parses_into_five_instructions_that_pass_the_filters() -> None:
    parsed = parse(SelfInstructResponder(seed=3)(responder_prompt()))
    assert len(parsed.instructions) == 5 and parsed.rejections == ()
    for text in parsed.instructions:
        assert 6 <= len(text.split()) <= 20 and text[0].isupper()
        assert filter_instruction(text, PARAMS) is None


def test_responder_is_reproducible_for_a_seed_and_varies_across_calls() -> None:
    first, second = SelfInstructResponder(seed=3), SelfInstructResponder(seed=3)
    assert first(responder_prompt()) == second(responder_prompt())
    assert first(responder_prompt()) != first(responder_prompt())


def test_responder_never_numbers_past_fifteen() -> None:
    prompt = render_instruction_prompt(SEEDS[:13], PARAMS)
    parsed = parse_instruction_completion(SelfInstructResponder()(prompt), 14, "stop", PARAMS)
    assert len(parsed.instructions) == 2


def test_responder_rates_turn_items_into_near_duplicates_or_blacklisted_ones() -> None:
    near = parse(SelfInstructResponder(near_duplicate_rate=1.0)(responder_prompt())).instructions
    assert all(t.startswith("Seed task") and t.endswith(f"{NEAR_DUPLICATE_SUFFIX}.") for t in near)
    banned = parse(SelfInstructResponder(blacklisted_rate=1.0)(responder_prompt())).instructions
    reasons = {getattr(filter_instruction(text, PARAMS), "reason", None) for text in banned}
    assert len(banned) == 5 and reasons == {Reason.BLACKLISTED}


def test_responder_garbage_yields_no_usable_instruction() -> None:
    parsed = parse(SelfInstructResponder(garbage_rate=1.0)(responder_prompt()))
    assert all(filter_instruction(text, PARAMS) is not None for text in parsed.instructions)


def test_responder_rejects_a_prompt_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="unrecognised prompt"):
        SelfInstructResponder()("Hello there")


def test_responder_is_safe_to_call_from_many_threads() -> None:
    responder, prompt = SelfInstructResponder(seed=5), responder_prompt()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: parse(responder(prompt)), range(32)))
    assert all(len(r.instructions) == 5 for r in results)
    assert len({r.instructions for r in results}) == 32
