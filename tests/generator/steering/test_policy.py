"""The steering policy on hand-built tag counts (generator/steering/policy.py)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from generator.selfinstruct.instructions import select_prompt_instructions
from generator.selfinstruct.params import GenerationParams
from generator.steering import Coverage, Example, SteeringParams, Strategy
from generator.steering.policy import example_weights, hint_tags, plan_prompt, weighted_sample

PARAMS = GenerationParams()
SEEDS = [Example(i, f"Seed task number {i} about something.") for i in range(1, 21)]
MACHINE = [Example(100 + i, f"Machine task number {i} about something.") for i in range(10)]
# Machine tasks 100..104 carry only the common tag "write"; 105..109 carry a rare tag each.
COVERAGE = Coverage.from_task_tags(
    {**{100 + i: ["write"] for i in range(5)},
     **{105 + i: [f"rare-{i}"] for i in range(5)},
     **{i: ["write"] for i in range(1, 21)}},
    vocabulary_version=3,
)


def test_coverage_counts_each_tasks_distinct_tags_once() -> None:
    coverage = Coverage.from_task_tags({1: ["a", "a", "b"], 2: ["b"]})
    assert dict(coverage.counts) == {"a": 1, "b": 2}
    assert coverage.with_tasks({3: ["a"]}).counts["a"] == 2


def test_a_task_with_rare_tags_weighs_more_than_one_with_common_tags() -> None:
    coverage = Coverage.from_task_tags({1: ["common"], 2: ["common"], 3: ["common"], 4: ["rare", "common"]})
    weights = example_weights([Example(1, "x"), Example(4, "y")], coverage, beta=1.0)
    assert weights == pytest.approx([1 / 4, (1 / 1 + 1 / 4) / 2])


def test_an_untagged_task_gets_the_mean_weight_of_the_tagged_ones() -> None:
    coverage = Coverage.from_task_tags({1: ["a"], 2: ["b"], 3: ["b"]})
    weights = example_weights([Example(1, "x"), Example(2, "y"), Example(9, "untagged")], coverage, 1.0)
    assert weights[2] == pytest.approx((1.0 + 0.5) / 2)


def test_weighted_sample_draws_heavy_items_far_more_often() -> None:
    rng = random.Random(0)
    hits = Counter(weighted_sample(["light", "heavy"], [1.0, 9.0], 1, rng)[0] for _ in range(4000))
    assert 0.85 < hits["heavy"] / 4000 < 0.95


def test_weighted_sample_rejects_a_zero_weight_and_too_large_k() -> None:
    with pytest.raises(ValueError, match="> 0"):
        weighted_sample(["a"], [0.0], 1, random.Random(0))
    with pytest.raises(ValueError, match="cannot draw 2"):
        weighted_sample(["a"], [1.0], 2, random.Random(0))


def test_strategy_none_makes_exactly_the_plain_loops_draws() -> None:
    for seed in range(20):
        plan = plan_prompt(SEEDS, MACHINE, COVERAGE, SteeringParams(), PARAMS, random.Random(seed))
        plain = select_prompt_instructions([s.instruction for s in SEEDS], [m.instruction for m in MACHINE],
                                           PARAMS, random.Random(seed))
        assert plan.instructions == plain
        assert plan.aimed_tags == ()


def test_rare_examples_keeps_six_seeds_and_two_machine_tasks() -> None:
    plan = plan_prompt(SEEDS, MACHINE, COVERAGE, SteeringParams(Strategy.RARE_EXAMPLES), PARAMS,
                       random.Random(1))
    ids = [e.task_id for e in plan.examples]
    assert len(ids) == 8 and sum(i >= 100 for i in ids) == 2 and len(set(ids)) == 8


def test_rare_examples_prefers_machine_tasks_with_rare_tags() -> None:
    steering = SteeringParams(Strategy.RARE_EXAMPLES)
    rare = plain = 0
    for seed in range(300):
        steered = plan_prompt(SEEDS, MACHINE, COVERAGE, steering, PARAMS, random.Random(seed))
        uniform = plan_prompt(SEEDS, MACHINE, COVERAGE, SteeringParams(), PARAMS, random.Random(seed))
        rare += sum(e.task_id >= 105 for e in steered.examples)
        plain += sum(e.task_id >= 105 for e in uniform.examples)
    # Weight 1 vs 1/10 per task: about 10/11 of the machine draws are rare ones, against 1/2 uniformly.
    assert rare / 600 > 0.8 and 0.4 < plain / 600 < 0.6


def test_rare_examples_aims_at_the_tags_of_the_drawn_machine_tasks_rarest_first() -> None:
    plan = plan_prompt(SEEDS, MACHINE, COVERAGE, SteeringParams(Strategy.RARE_EXAMPLES), PARAMS,
                       random.Random(4))
    machine_tags = {COVERAGE.task_tags[e.task_id][0] for e in plan.examples if e.task_id >= 100}
    assert set(plan.aimed_tags) == machine_tags
    assert list(plan.aimed_tags) == sorted(machine_tags, key=lambda t: (COVERAGE.counts[t], t))


def test_steer_seeds_also_weights_the_seed_draw() -> None:
    coverage = COVERAGE.with_tasks({1: ["only-seed-one"]})
    steering = SteeringParams(Strategy.RARE_EXAMPLES, steer_seeds=True, beta=3.0)
    hits = sum(1 in [e.task_id for e in plan_prompt(SEEDS, MACHINE, coverage, steering, PARAMS,
                                                     random.Random(seed)).examples] for seed in range(100))
    assert hits > 95  # weight 1 against 1/25**3: seed 1 is in nearly every prompt (uniformly: 30 %)


def test_plans_are_deterministic_for_a_seed_and_vary_across_seeds() -> None:
    for strategy in Strategy:
        steering = SteeringParams(strategy, hint_pool=8)
        first = plan_prompt(SEEDS, MACHINE, COVERAGE, steering, PARAMS, random.Random(7))
        again = plan_prompt(SEEDS, MACHINE, COVERAGE, steering, PARAMS, random.Random(7))
        other = plan_prompt(SEEDS, MACHINE, COVERAGE, steering, PARAMS, random.Random(8))
        assert first == again and first != other


def test_hint_tags_come_from_the_rarest_tags_and_skip_ones_that_do_not_fit_a_line() -> None:
    coverage = Coverage.from_task_tags({1: ["common", "mid", "x" * 41, "two\nlines"], 2: ["common", "mid"],
                                        3: ["common", "rare"], 4: ["common"]})
    tags = hint_tags(coverage, SteeringParams(Strategy.TAG_HINTS, hint_tags=2, hint_pool=2), random.Random(0))
    assert tags == ("rare", "mid")


def test_tag_hints_on_an_untagged_pool_aim_at_nothing() -> None:
    plan = plan_prompt(SEEDS, [], Coverage(), SteeringParams(Strategy.TAG_HINTS), PARAMS, random.Random(0))
    assert plan.aimed_tags == () and len(plan.examples) == 8


def test_a_plan_serializes_its_aims_and_example_ids() -> None:
    plan = plan_prompt(SEEDS[:1], MACHINE[:1], COVERAGE, SteeringParams(Strategy.RARE_EXAMPLES), PARAMS,
                       random.Random(0))
    assert plan.to_json() == {"strategy": "rare-examples", "aimed_tags": ["write"],
                              "example_task_ids": [e.task_id for e in plan.examples], "vocabulary_version": 3}


def test_params_round_trip_through_json_and_reject_bad_values() -> None:
    params = SteeringParams(Strategy.TAG_HINTS, beta=0.5, hint_tags=2)
    assert SteeringParams.from_json(params.to_json()) == params
    loaded = SteeringParams.from_json({"strategy": "rare-examples", "unknown": 1})
    assert loaded.strategy is Strategy.RARE_EXAMPLES
    assert SteeringParams.from_json(None) == SteeringParams()
    with pytest.raises(ValueError):
        SteeringParams("sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="beta"):
        SteeringParams(beta=-1)


def test_hint_tags_break_ties_in_count_at_random_not_by_name() -> None:
    coverage = Coverage.from_task_tags({i: [f"tag-{i:03d}"] for i in range(200)})
    steering = SteeringParams(Strategy.TAG_HINTS, hint_tags=3, hint_pool=10)
    named = {tag for seed in range(30) for tag in hint_tags(coverage, steering, random.Random(seed))}
    assert len(named) > 30 and any(tag > "tag-100" for tag in named)
