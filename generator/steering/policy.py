"""The steering policy: from tag coverage, choose each prompt's in-context examples and aims.

Every strategy keeps the paper's prompt structure (§2.2: 6 seed + 2 machine examples, seeds
filling in while the pool has too few machine tasks) and makes its draws from the injected
``random.Random`` in a fixed order, so a plan is reproducible from the seed:

* ``none``: machine sample, seed sample, shuffle -- exactly the draws of
  :func:`generator.selfinstruct.instructions.select_prompt_instructions`, so the plain loop is unchanged;
* ``rare-examples``: the same order, but the machine sample (and the seed sample when
  ``steer_seeds``) is weighted by :func:`example_weights` (favouring tasks with rare tags);
* ``tag-hints``: the ``none`` draws, then :func:`hint_tags` picks the tags the header names.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from generator.selfinstruct.params import GenerationParams
from generator.steering.coverage import Coverage, Example
from generator.steering.params import SteeringParams, Strategy

__all__ = ["PromptPlan", "example_weights", "hint_tags", "plan_prompt", "weighted_sample"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PromptPlan:
    """What one generation prompt shows and aims at; stored with its request (lineage)."""

    strategy: Strategy
    examples: tuple[Example, ...]
    aimed_tags: tuple[str, ...] = ()
    vocabulary_version: int | None = None

    @property
    def instructions(self) -> list[str]:
        """The in-context instructions, in prompt order."""
        return [example.instruction for example in self.examples]

    def to_json(self) -> dict[str, Any]:
        """The JSON stored per prompt in ``llm_requests.steering``."""
        return {
            "strategy": str(self.strategy),
            "aimed_tags": list(self.aimed_tags),
            "example_task_ids": [example.task_id for example in self.examples],
            "vocabulary_version": self.vocabulary_version,
        }


def example_weights(examples: Sequence[Example], coverage: Coverage, beta: float) -> list[float]:
    """Each example's weight: the mean over its tags of ``1 / count**beta`` (counts from coverage).

    A tag the counts do not know counts as seen once (the rarest possible). An untagged task
    (or one with no tags) gets the mean weight of the tagged examples -- neither favoured nor
    avoided -- or 1.0 when none of them is tagged. All weights are > 0.
    """
    weights: list[float | None] = []
    for example in examples:
        tags = coverage.task_tags.get(example.task_id, ())
        if not tags:
            weights.append(None)
            continue
        weights.append(sum(max(coverage.counts.get(tag, 1), 1) ** -beta for tag in tags) / len(tags))
    known = [w for w in weights if w is not None]
    neutral = sum(known) / len(known) if known else 1.0
    return [neutral if w is None else w for w in weights]


def weighted_sample(items: Sequence[T], weights: Sequence[float], k: int, rng: random.Random) -> list[T]:
    """``k`` items without replacement, item ``i`` drawn with probability proportional to ``weights[i]``
    at each step (Efraimidis & Spirakis, 2006: the ``k`` largest keys ``log(u) / w``).

    One ``rng.random()`` per item, in order, so the result is fixed by the rng's state.
    Raises ValueError for mismatched lengths, a non-positive weight or ``k`` > ``len(items)``.
    """
    if len(items) != len(weights):
        raise ValueError(f"{len(items)} items but {len(weights)} weights")
    if not 0 <= k <= len(items):
        raise ValueError(f"cannot draw {k} of {len(items)} items")
    if any(not w > 0 for w in weights):
        raise ValueError("weights must be > 0")
    keys = [math.log(1.0 - rng.random()) / w for w in weights]  # 1 - random() is in (0, 1]
    order = sorted(range(len(items)), key=lambda i: keys[i], reverse=True)
    return [items[i] for i in order[:k]]


def hint_tags(coverage: Coverage, params: SteeringParams, rng: random.Random) -> tuple[str, ...]:
    """The under-covered tags one hinted prompt names: ``hint_tags`` of the ``hint_pool`` rarest.

    Candidates are the pool's tags that fit on a header line (one line, at most
    ``max_hint_tag_chars``, not empty), rarest first, ties in count in random order; among the
    first ``hint_pool`` the draw is weighted by ``1 / count**beta``. Returned rarest first (then by
    name). Empty when the pool has no tags.
    """
    fitting = sorted((count, tag) for tag, count in coverage.counts.items()
                     if tag.strip() and "\n" not in tag and len(tag) <= params.max_hint_tag_chars)
    rng.shuffle(fitting)  # ties in count are broken at random (a sort by name would favour "a...")
    rarest = sorted(fitting, key=lambda item: item[0])[: params.hint_pool]
    k = min(params.hint_tags, len(rarest))
    chosen = weighted_sample(rarest, [max(count, 1) ** -params.beta for count, _ in rarest], k, rng)
    return tuple(tag for _, tag in sorted(chosen))


def plan_prompt(
    seeds: Sequence[Example],
    machine: Sequence[Example],
    coverage: Coverage,
    steering: SteeringParams,
    params: GenerationParams,
    rng: random.Random,
) -> PromptPlan:
    """Plan one prompt: its in-context examples (6 + 2 by default) and the tags it aims at.

    Counts follow :func:`generator.selfinstruct.instructions.select_prompt_instructions`: when one side has
    too few, the other fills in. For ``rare-examples`` the aimed tags are the tags of the
    weighted-drawn examples, rarest first; for ``tag-hints`` the tags of :func:`hint_tags`.
    """
    total = params.seed_instructions_per_prompt + params.machine_instructions_per_prompt
    n_machine = min(params.machine_instructions_per_prompt, len(machine))
    n_seed = min(total - n_machine, len(seeds))
    n_machine = min(total - n_seed, len(machine))
    rare = steering.strategy is Strategy.RARE_EXAMPLES
    chosen_machine = _draw(machine, n_machine, coverage, steering, rng, weighted=rare)
    chosen_seeds = _draw(seeds, n_seed, coverage, steering, rng, weighted=rare and steering.steer_seeds)
    chosen = chosen_machine + chosen_seeds
    rng.shuffle(chosen)
    aimed: tuple[str, ...] = ()
    if rare:
        steered = chosen_machine + (chosen_seeds if steering.steer_seeds else [])
        aimed = _rarest_first(steered, coverage.counts, coverage)
    elif steering.strategy is Strategy.TAG_HINTS:
        aimed = hint_tags(coverage, steering, rng)
    return PromptPlan(steering.strategy, tuple(chosen), aimed, coverage.vocabulary_version)


def _draw(pool: Sequence[Example], k: int, coverage: Coverage, steering: SteeringParams,
          rng: random.Random, *, weighted: bool) -> list[Example]:
    if not weighted:
        return rng.sample(list(pool), k)
    return weighted_sample(pool, example_weights(pool, coverage, steering.beta), k, rng)


def _rarest_first(examples: Sequence[Example], counts: Mapping[str, int],
                  coverage: Coverage) -> tuple[str, ...]:
    tags = {tag for example in examples for tag in coverage.task_tags.get(example.task_id, ())}
    return tuple(sorted(tags, key=lambda tag: (counts.get(tag, 1), tag)))
