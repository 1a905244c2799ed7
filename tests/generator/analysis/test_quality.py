from __future__ import annotations

import random

import pytest

from generator.analysis.quality import (
    NO_REWARD_SCORER,
    Example,
    Indicators,
    example_text,
    indicators,
    rewards,
    rule_score,
)
from generator.analysis.selection import select_by_quality, select_randomly


def test_the_rule_is_instructmining_first_fitted_rule() -> None:
    assert rule_score(2.0, 100, 0.5) == pytest.approx(1.0694 - 0.1498 * 2.0 + 8.257e-5 * 100 - 0.9350 * 0.5)


def test_the_rule_is_null_without_a_reward_or_a_knn6() -> None:
    assert rule_score(None, 100, 0.5) is None
    assert rule_score(1.0, 100, None) is None


def test_indicators_count_words_and_leave_the_rule_null_without_reward() -> None:
    example = Example(7, "Name two fruits.", "A list please", "apple pear apple pear")
    row = indicators(example, knn6=0.4, perplexity=None, perplexity_reason="no logprobs", reward=None)
    assert (row.input_length, row.output_length) == (3 + 3, 4)
    assert row.mtld is not None and row.knn6 == 0.4
    assert row.perplexity is None and row.perplexity_reason == "no logprobs"
    assert row.reward is None and row.rule_score is None


def test_no_reward_scorer_gives_null_rewards_never_invented_ones() -> None:
    examples = [Example(1, "a", "", "b"), Example(2, "c", "", "d")]
    assert rewards(None, examples) == [None, None]
    assert NO_REWARD_SCORER


def test_a_reward_scorer_scores_every_example() -> None:
    class Lengthy:
        name = "lengthy"

        def score(self, instruction: str, input: str, output: str) -> float:
            return float(len(output))

    assert rewards(Lengthy(), [Example(1, "a", "", "xyz")]) == [3.0]


def test_the_embedded_text_joins_the_non_empty_parts() -> None:
    assert example_text(Example(1, "Do it.", "", "Done.")) == "Do it.\nDone."


def row(task_id: int, score: float | None) -> Indicators:
    return Indicators(task_id, 1, 1, None, None, None, "x", None, score)


def test_quality_selection_takes_the_lowest_scores_and_skips_unscored_tasks() -> None:
    selection = select_by_quality([row(1, 0.9), row(2, None), row(3, 0.1), row(4, 0.5)], 2)
    assert selection.task_ids == (3, 4)
    assert selection.eligible == 3


def test_quality_selection_returns_fewer_when_fewer_are_scored() -> None:
    assert select_by_quality([row(1, None), row(2, 0.3)], 5).task_ids == (2,)


def test_random_baseline_is_reproducible_and_bounded_by_the_pool() -> None:
    a = select_randomly([5, 1, 3, 2], 2, random.Random(1))
    b = select_randomly([1, 2, 3, 5], 2, random.Random(1))
    assert a.task_ids == b.task_ids and len(a.task_ids) == 2
    assert sorted(select_randomly([1, 2], 9, random.Random(0)).task_ids) == [1, 2]
