"""InstructMining quality indicators of one task and the paper's first fitted rule.

Cao et al., 2023, "Instruction Mining: Instruction Data Selection for Tuning Large Language Models",
§4 (the "first" rule, fitted on their data): ``log L ∝ 1.0694 − 0.1498·Rew + 8.257e-5·Len − 0.9350·KNN6``
— a predicted evaluation loss, so *lower is better*. ``Len`` is the response length (here in words,
the paper counts tokens), ``Rew`` a reward-model score and ``KNN6`` the 6th-neighbour distance. The rule
is applied only where every input exists: with no reward scorer it is null, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from generator.analysis.lexical import mtld, word_count, words


@dataclass(frozen=True, slots=True)
class RuleCoefficients:
    """The linear rule's coefficients; defaults are InstructMining §4's first fitted rule."""

    intercept: float = 1.0694
    reward: float = -0.1498
    length: float = 8.257e-5
    knn6: float = -0.9350


class RewardScorer(Protocol):
    """A reward model: scores how good ``output`` is as a response to ``instruction`` + ``input``."""

    name: str

    def score(self, instruction: str, input: str, output: str) -> float:
        """A scalar reward; higher is better."""
        ...


@dataclass(frozen=True, slots=True)
class Example:
    """One (instruction, input, output) triple scored as a unit; a task's first instance."""

    task_id: int
    instruction: str
    input: str
    output: str


@dataclass(frozen=True, slots=True)
class Indicators:
    """The InstructMining indicators of one task; None where an input is missing, with the reason."""

    task_id: int
    input_length: int  # words of instruction + input
    output_length: int  # words of the output
    mtld: float | None
    knn6: float | None
    perplexity: float | None
    perplexity_reason: str | None
    reward: float | None
    rule_score: float | None


NO_REWARD_SCORER = "no reward scorer configured"


def rule_score(
    reward: float | None, length: int, knn6: float | None, coefficients: RuleCoefficients = RuleCoefficients()
) -> float | None:
    """The fitted rule's predicted loss (lower is better), or None when the reward or KNN-6 is missing."""
    if reward is None or knn6 is None:
        return None
    c = coefficients
    return c.intercept + c.reward * reward + c.length * length + c.knn6 * knn6


def indicators(
    example: Example,
    *,
    knn6: float | None,
    perplexity: float | None,
    perplexity_reason: str | None,
    reward: float | None,
) -> Indicators:
    """Every indicator of ``example``, given the pool-level ones (KNN-6, perplexity, reward)."""
    output_length = word_count(example.output)
    return Indicators(
        task_id=example.task_id,
        input_length=word_count(example.instruction) + word_count(example.input),
        output_length=output_length,
        mtld=mtld(words(example.output)),
        knn6=knn6,
        perplexity=perplexity,
        perplexity_reason=None if perplexity is not None else perplexity_reason,
        reward=reward,
        rule_score=rule_score(reward, output_length, knn6),
    )


def example_text(example: Example) -> str:
    """The text embedded for KNN-6: instruction, input and output, one per line (empty parts dropped)."""
    return "\n".join(part for part in (example.instruction, example.input, example.output) if part)


def rewards(scorer: RewardScorer | None, examples: Sequence[Example]) -> list[float | None]:
    """The scorer's reward of each example, or None for all when no scorer is configured."""
    if scorer is None:
        return [None] * len(examples)
    return [scorer.score(e.instruction, e.input, e.output) for e in examples]
