"""Instruction filters (generator/selfinstruct/filters.py): one test per reason, plus the edge cases."""

from __future__ import annotations

import pytest

from generator.records import Reason, Stage
from generator.selfinstruct.filters import blacklist_match, filter_instruction
from generator.selfinstruct.params import GenerationParams

PARAMS = GenerationParams()


def reason_of(text: str, params: GenerationParams = PARAMS) -> Reason | None:
    rejection = filter_instruction(text, params)
    return None if rejection is None else rejection.reason


def test_a_plain_instruction_passes() -> None:
    assert filter_instruction("Give three tips for staying healthy.", PARAMS) is None


def test_acronyms_are_kept_and_pass() -> None:
    assert filter_instruction("Explain what NASA and the UN do in two sentences.", PARAMS) is None


def test_rejection_carries_the_filter_stage_and_the_original_text() -> None:
    rejection = filter_instruction("Too short text", PARAMS)
    assert rejection is not None
    assert (rejection.stage, rejection.reason, rejection.text) == (
        Stage.FILTER,
        Reason.TOO_SHORT,
        "Too short text",
    )


@pytest.mark.parametrize("text", ["", "   ", "One", "Three words here"])
def test_three_words_or_fewer_is_too_short(text: str) -> None:
    assert reason_of(text) is Reason.TOO_SHORT


def test_four_words_is_long_enough() -> None:
    assert reason_of("Name four French cheeses.") is None


def test_more_than_150_words_is_too_long_but_150_is_fine() -> None:
    assert reason_of("Summarize " + "word " * 149) is None
    assert reason_of("Summarize " + "word " * 150) is Reason.TOO_LONG


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("Describe the image in one sentence.", "image"),
        ("Graph the function for x between 0 and 10.", "graph"),
        ("Draw a cat using only text characters.", "draw"),
        ("Go to the store and list what you see.", "go to"),
        ("Tell me how to go  to the station from here.", "go to"),
        ("Read the FILES and report their sizes.", "files"),
    ],
)
def test_blacklisted_words_match_whole_words_in_any_case(text: str, word: str) -> None:
    rejection = filter_instruction(text, PARAMS)
    assert rejection is not None
    assert rejection.reason is Reason.BLACKLISTED
    assert word in rejection.detail


@pytest.mark.parametrize(
    "text",
    [
        "Explain how graphics cards speed up games.",
        "Describe the plotline of a mystery novel.",
        "Explain why going to bed early helps.",
        "Tell me what happened a year ago today.",
        "List sights to see during a trip to Rome.",
    ],
)
def test_words_merely_containing_a_blacklisted_word_pass(text: str) -> None:
    assert reason_of(text) is None


def test_go_to_is_matched_as_a_phrase_not_as_separate_words() -> None:
    assert blacklist_match("We go there to rest.", PARAMS.blacklist) is None
    assert blacklist_match("Where did you GO TO?", PARAMS.blacklist) == "go to"


def test_blacklist_comes_from_params() -> None:
    params = GenerationParams(blacklist=("banana",))
    assert reason_of("Describe a banana to a child.", params) is Reason.BLACKLISTED
    assert reason_of("Describe the image to a child.", params) is None


@pytest.mark.parametrize(
    "text", ["Write a program that sorts a list.", "write a  PROGRAM to add numbers together"]
)
def test_starting_with_write_a_program_is_rejected(text: str) -> None:
    assert reason_of(text) is Reason.WRITE_A_PROGRAM


def test_write_a_program_elsewhere_or_as_a_longer_word_passes() -> None:
    assert reason_of("Explain how to write a program that sorts numbers.") is None
    assert reason_of("Write a programmer's short biography for a website.") is None


@pytest.mark.parametrize(
    "text", ["- List three fruits and their colors.", '"Translate this sentence into French."']
)
def test_starting_with_punctuation_is_rejected(text: str) -> None:
    assert reason_of(text) is Reason.PUNCTUATION_START


def test_starting_with_a_non_ascii_character_is_rejected() -> None:
    assert reason_of("Écrire un poème sur la mer.") is Reason.NON_ASCII_START


def test_leading_whitespace_is_ignored_by_the_start_checks() -> None:
    assert reason_of("   Name four French cheeses.") is None


def test_checks_run_in_order_length_before_blacklist_before_start() -> None:
    assert reason_of("Draw image") is Reason.TOO_SHORT
    assert reason_of("Write a program that draws a picture.") is Reason.BLACKLISTED
    assert reason_of("- Write a program that adds numbers.") is Reason.PUNCTUATION_START


@pytest.mark.parametrize("text", ["Add the two\x00 numbers together.", "Add two numbers \x1b[31mtogether."])
def test_a_nul_or_control_character_is_rejected_with_its_reason(text: str) -> None:
    rejection = filter_instruction(text, PARAMS)
    assert rejection is not None and rejection.reason == Reason.CONTROL_CHARACTERS
    assert "\x00" not in rejection.text and "\x1b" not in rejection.text
    assert rejection.detail.startswith("1 control character (U+")


def test_newlines_and_tabs_are_not_control_characters() -> None:
    assert filter_instruction("Add the two numbers\tand\ngive the sum.", PARAMS) is None
