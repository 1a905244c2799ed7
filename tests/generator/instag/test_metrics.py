"""Diversity and complexity figures on known inputs."""

from __future__ import annotations

import math

import pytest

from generator.instag.metrics import group_metrics, measure, random_baseline
from generator.instag.params import InsTagParams
from generator.instag.records import StageCount, TaskTags, Vocabulary


def vocabulary() -> Vocabulary:
    mapping = {"Poem": "poem", "poem": "poem", "math": "math", "sums": "math", "code": "code", "art": "art"}
    return Vocabulary(InsTagParams(), (StageCount("raw", 6),), mapping,
                      {"poem": 2, "math": 2, "code": 1, "art": 1})


def test_measure_counts_unique_tags_coverage_complexity_and_entropy() -> None:
    result = measure([frozenset({"poem", "math"}), frozenset({"poem"}), frozenset()], vocabulary_size=4)
    assert result.tasks == 3
    assert result.unique_tags == 2
    assert result.coverage == 0.5
    assert result.mean_tags_per_task == 1.0
    # tag uses: poem 2, math 1 -> H = -(2/3 log2 2/3 + 1/3 log2 1/3)
    assert result.entropy == pytest.approx(-(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3))


def test_no_tasks_give_zeros_not_errors() -> None:
    result = measure([], vocabulary_size=0)
    figures = (result.unique_tags, result.coverage, result.mean_tags_per_task, result.entropy)
    assert figures == (0, 0.0, 0.0, 0.0)


def test_the_random_baseline_draws_the_same_size_with_a_seed() -> None:
    sets = [frozenset({str(i)}) for i in range(10)]
    baseline = random_baseline(sets, 4, vocabulary_size=10, seed=3)
    assert baseline.tasks == 4
    assert baseline.unique_tags == 4
    assert baseline == random_baseline(sets, 4, vocabulary_size=10, seed=3)


def test_groups_split_seeds_from_machine_tasks_per_round_through_the_vocabulary() -> None:
    tasks = [
        TaskTags(1, ("Poem", "math"), round=None, origin="seed"),
        TaskTags(2, ("poem", "sums"), round=1),
        TaskTags(3, ("code", "dropped"), round=1),
        TaskTags(4, ("art",), round=2),
    ]
    groups = group_metrics(tasks, vocabulary(), seed=0)
    assert [(g.round, g.origin) for g in groups] == [(None, "seed"), (1, "machine"), (2, "machine")]
    round_1 = groups[1]
    figures = round_1.metrics
    assert (figures.tasks, figures.unique_tags, figures.mean_tags_per_task) == (2, 3, 1.5)
    assert round_1.metrics.coverage == 0.75
    assert round_1.baseline.tasks == 2
