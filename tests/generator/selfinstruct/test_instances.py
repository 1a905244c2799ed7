"""Instance prompts, parsing and instance filters (generator/selfinstruct/instances.py)."""

from __future__ import annotations

import pytest

from generator.records import Instance, InstanceResult, Reason, Rejection, Stage
from generator.selfinstruct import classification, instances, instructions
from generator.selfinstruct.instances import (
    describe_instance,
    filter_instances,
    no_instances_rejection,
    parse_instances,
    render_instance_prompt,
)
from generator.selfinstruct.params import GenerationParams
from generator.testing.responders import SelfInstructResponder

PARAMS = GenerationParams()
INPUT_FIRST_HEADER = (
    "Below are tasks, each followed by worked examples. An example gives the input the task needs and "
    "then the correct output. When a task needs no input, the example gives only the output.\n\n"
    "Task: Convert the temperature from Celsius to Fahrenheit.\nExample 1\nInput: 20 °C\nOutput: 68 °F\n\n"
)
INPUT_FIRST_TAIL = (
    "Task: Name a fruit that is rich in vitamin C.\nExample 1\nOutput: Orange\n\nExample 2\nOutput: Kiwi\n\n"
    "Task: Name a color.\n"
)
OUTPUT_FIRST_HEADER = (
    "Below are classification tasks, each with its class labels. Every class label is followed by an "
    "input that belongs to that class.\n\n"
    "Task: Classify the sentiment of the product review as positive or negative.\nClass label: Positive\n"
)
OUTPUT_FIRST_TAIL = (
    "Class label: Not spam\nInput: Minutes from Tuesday's project meeting\n\nTask: Is the email spam?\n"
)


# --- rendering -------------------------------------------------------------------------------------


def test_input_first_prompt_has_the_exact_header_and_ends_with_the_task_line() -> None:
    prompt = render_instance_prompt("Name a color.", is_classification=False)
    assert prompt.startswith(INPUT_FIRST_HEADER) and prompt.endswith(INPUT_FIRST_TAIL)


def test_output_first_prompt_has_the_exact_header_and_ends_with_the_task_line() -> None:
    prompt = render_instance_prompt("Is the email spam?", is_classification=True)
    assert prompt.startswith(OUTPUT_FIRST_HEADER) and prompt.endswith(OUTPUT_FIRST_TAIL)


def test_instance_prompt_puts_the_instruction_on_one_line() -> None:
    assert render_instance_prompt(" Name\n a  color. ", False).endswith("\nTask: Name a color.\n")


@pytest.mark.parametrize("is_classification", [False, True])
def test_instance_prompts_are_short_and_carry_only_their_own_marker(is_classification: bool) -> None:
    prompt = render_instance_prompt("Name a color.", is_classification)
    own = instances.OUTPUT_FIRST_MARKER if is_classification else instances.INPUT_FIRST_MARKER
    other = instances.INPUT_FIRST_MARKER if is_classification else instances.OUTPUT_FIRST_MARKER
    assert len(prompt) < 4500
    assert own in prompt and other not in prompt
    assert classification.PROMPT_MARKER not in prompt and instructions.PROMPT_MARKER not in prompt


def test_input_first_demonstrations_mix_tasks_with_and_without_input() -> None:
    demos = render_instance_prompt("Name a color.", False).split("\n\nTask: ")[:-1]
    assert sum("Input:" in demo for demo in demos) >= 3 and sum("Input:" not in demo for demo in demos) >= 3


# --- parsing ---------------------------------------------------------------------------------------


def test_parse_input_first_reads_each_example_block() -> None:
    completion = "Example 1\nInput: 3, 9, 4\nOutput: 9\n\nExample 2\nInput: 7, 1\nOutput: 7"
    assert parse_instances(completion, False, "stop") == [Instance("3, 9, 4", "9"), Instance("7, 1", "7")]


def test_parse_input_first_turns_examples_without_an_input_line_into_empty_inputs() -> None:
    completion = "Example 1\nOutput: The Daily Crumb\n\nExample 2\nInput:\nOutput: Rise & Loaf"
    assert parse_instances(completion, False, "stop") == [
        Instance("", "The Daily Crumb"),
        Instance("", "Rise & Loaf"),
    ]


def test_parse_input_first_keeps_inner_newlines_of_multi_line_fields() -> None:
    completion = "Example 1\nInput: Line one\nline two\nOutput: 1. First\n2. Second\n"
    assert parse_instances(completion, False, "stop") == [
        Instance("Line one\nline two", "1. First\n2. Second")
    ]


def test_parse_input_first_accepts_a_first_example_without_its_header() -> None:
    completion = "Input: 2 + 2\nOutput: 4\n\nExample 2\nInput: 3 + 3\nOutput: 6"
    assert parse_instances(completion, False, "stop") == [Instance("2 + 2", "4"), Instance("3 + 3", "6")]


def test_parse_input_first_keeps_an_input_without_output_so_the_filter_can_record_it() -> None:
    assert parse_instances("Example 1\nInput: 2 + 2\n", False, "stop") == [Instance("2 + 2", "")]


def test_parse_drops_the_truncated_last_block_when_finish_reason_is_length() -> None:
    completion = "Example 1\nInput: 3, 9\nOutput: 9\n\nExample 2\nInput: 7, 1\nOutput: 7 is the la"
    assert parse_instances(completion, False, "length") == [Instance("3, 9", "9")]


def test_parse_stops_at_a_new_task_line_and_then_ignores_length() -> None:
    completion = "Example 1\nInput: 3, 9\nOutput: 9\n\nTask: Something else\nExample 1\nInput: x"
    assert parse_instances(completion, False, "length") == [Instance("3, 9", "9")]


@pytest.mark.parametrize("is_classification", [False, True])
@pytest.mark.parametrize("completion", ["", "I am not sure what to write here.", "~~ ?? ##"])
def test_parse_of_garbage_yields_no_instances(completion: str, is_classification: bool) -> None:
    assert parse_instances(completion, is_classification, "stop") == []


def test_parse_output_first_reads_labels_as_outputs_and_texts_as_inputs() -> None:
    completion = (
        "Class label: Positive\nInput: Great phone.\n\nClass label: Negative\nInput: It broke.\nTwice."
    )
    assert parse_instances(completion, True, "stop") == [
        Instance("Great phone.", "Positive"),
        Instance("It broke.\nTwice.", "Negative"),
    ]


def test_parse_output_first_skips_a_label_without_an_input() -> None:
    completion = "Class label: Positive\n\nClass label: Negative\nInput: It broke."
    assert parse_instances(completion, True, "stop") == [Instance("It broke.", "Negative")]


def test_parse_output_first_drops_the_truncated_last_block() -> None:
    completion = "Class label: True\nInput: Ice is cold.\n\nClass label: False\nInput: Fish can"
    assert parse_instances(completion, True, "length") == [Instance("Ice is cold.", "True")]


# --- filtering -------------------------------------------------------------------------------------


def rejected(instance: Instance, reason: Reason, detail: str = "") -> Rejection:
    return Rejection(Stage.INSTANCES, reason, describe_instance(instance), detail)


def test_filter_keeps_good_instances_in_order() -> None:
    good = (Instance("3, 9", "9"), Instance("", "The Daily Crumb"))
    assert filter_instances(good, PARAMS) == InstanceResult(instances=good)


@pytest.mark.parametrize(
    ("instance", "reason"),
    [
        (Instance("hello", "  "), Reason.EMPTY_OUTPUT),
        (Instance("", ""), Reason.EMPTY_OUTPUT),
        (Instance("hello", "hello"), Reason.INPUT_EQUALS_OUTPUT),
        (Instance("Translate:", "Bonjour"), Reason.ENDS_WITH_COLON),
        (Instance("Bonjour", "Here is the translation:"), Reason.ENDS_WITH_COLON),
        (Instance("Bonjour", "Hello\x00"), Reason.CONTROL_CHARACTERS),
        (Instance("a\x07b", "Hello"), Reason.CONTROL_CHARACTERS),
    ],
)
def test_filter_rejects_each_bad_instance_with_its_reason(instance: Instance, reason: Reason) -> None:
    keep = Instance("2 + 2", "4")
    result = filter_instances([instance, keep], PARAMS)
    assert result == InstanceResult(instances=(keep,), rejections=(rejected(instance, reason),))


def test_filter_drops_every_instance_when_one_input_has_conflicting_outputs() -> None:
    batch = [
        Instance("Ice is cold.", "True"),
        Instance("Fish fly.", "False"),
        Instance("Ice is cold.", "False"),
    ]
    result = filter_instances(batch, PARAMS)
    detail = "1 input(s) with different outputs, e.g. 'Ice is cold.'"
    assert result == InstanceResult(
        instances=(), rejections=tuple(rejected(i, Reason.CONFLICTING_OUTPUTS, detail) for i in batch)
    )


def test_filter_does_not_treat_different_outputs_of_empty_inputs_as_conflicting() -> None:
    batch = (Instance("", "The Daily Crumb"), Instance("", "Rise & Loaf"))
    assert filter_instances(batch, PARAMS).instances == batch


def test_filter_removes_exact_duplicates_after_the_first() -> None:
    batch = [Instance("2 + 2", "4"), Instance("2 + 2", "4")]
    assert filter_instances(batch, PARAMS) == InstanceResult(
        instances=(batch[0],), rejections=(rejected(batch[1], Reason.DUPLICATE_INSTANCE),)
    )


def test_filter_keeps_at_most_five_and_rejects_the_rest_as_over_limit() -> None:
    batch = [Instance(f"{n} + 1", str(n + 1)) for n in range(7)]
    result = filter_instances(batch, PARAMS)
    assert result.instances == tuple(batch[:5])
    assert result.rejections == tuple(rejected(i, Reason.OVER_LIMIT, "kept the first 5") for i in batch[5:])


def test_filter_of_nothing_returns_nothing_and_leaves_no_instances_to_the_caller() -> None:
    assert filter_instances([], PARAMS) == InstanceResult(instances=())
    assert no_instances_rejection("Name a fruit.", 2) == Rejection(
        Stage.INSTANCES, Reason.NO_INSTANCES, "Name a fruit.", "2 parsed, none kept"
    )
    assert no_instances_rejection("Name a fruit.", 0, "401 Unauthorized: no").detail == "401 Unauthorized: no"


def test_describe_instance_is_one_compact_line() -> None:
    assert describe_instance(Instance("a\n b", "c  d")) == "input: a b | output: c d"
    assert len(describe_instance(Instance("x" * 1000, "y"))) == 500


# --- the test responder ----------------------------------------------------------------------------


@pytest.mark.parametrize("is_classification", [False, True])
def test_responder_examples_parse_and_survive_the_filters(is_classification: bool) -> None:
    responder = SelfInstructResponder()
    for n in range(20):
        completion = responder(render_instance_prompt(f"Do task number {n} well.", is_classification))
        parsed = parse_instances(completion, is_classification, "stop")
        assert 2 <= len(parsed) <= 3
        assert filter_instances(parsed, PARAMS) == InstanceResult(instances=tuple(parsed))


def test_responder_input_first_answers_include_tasks_without_input() -> None:
    responder = SelfInstructResponder()
    parsed = [
        parse_instances(responder(render_instance_prompt(f"Task {n} here.", False)), False, "stop")
        for n in range(20)
    ]
    assert any(all(i.input == "" for i in p) for p in parsed) and any(all(i.input for i in p) for p in parsed)


def test_responder_output_first_answers_use_class_labels_as_outputs() -> None:
    completion = SelfInstructResponder()(render_instance_prompt("Is the email spam?", True))
    outputs = {i.output for i in parse_instances(completion, True, "stop")}
    assert all(len(label.split()) <= 2 for label in outputs) and len(outputs) >= 2
