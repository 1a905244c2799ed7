from __future__ import annotations

from generator.analysis.histograms import histogram
from generator.analysis.poolstats import TaskView, task_histograms
from generator.records import Instance


def test_integer_histograms_have_unit_bins_when_the_range_is_small() -> None:
    h = histogram("len", [1, 2, 2, 5], integer=True)
    assert h.edges == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    assert h.counts == (1, 2, 0, 0, 1)


def test_nulls_are_counted_as_missing_with_their_reason() -> None:
    h = histogram("ppl", [None, 3.0, None, float("nan")], missing_reason="no logprobs")
    assert h.total == 1 and h.missing == 3 and h.missing_reason == "no logprobs"
    assert histogram("x", [None], missing_reason="r").counts == ()


def test_a_fixed_range_keeps_values_at_its_upper_edge() -> None:
    h = histogram("rouge", [0.0, 0.7, 1.0], value_range=(0.0, 1.0), bins=10, marker=0.7)
    assert sum(h.counts) == 3 and h.counts[-1] == 1 and h.marker == 0.7


def test_task_histograms_count_words_of_instructions_inputs_and_outputs() -> None:
    tasks = [
        TaskView(1, "seed", "Write a poem.", False, (Instance("", "Roses are red."),)),
        TaskView(
            2,
            "machine",
            "Sort the numbers given.",
            False,
            (Instance("3 1 2", "1 2 3"), Instance("9 8", "8 9")),
        ),
    ]
    instruction, inputs, outputs, rouge, per_task = task_histograms(tasks, [0.25])
    assert instruction.total == 2 and inputs.total == 2 and outputs.total == 3
    assert rouge.total == 1 and rouge.marker == 0.7
    assert per_task.edges[0] == 1.0 and per_task.counts == (1, 1)
