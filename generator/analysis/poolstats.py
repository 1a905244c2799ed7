"""Histograms of a pool's tasks: lengths in words, ROUGE-L to the nearest seed, instances per task.

Self-Instruct §3.2 / Figures 3–4 show the distribution of instruction, input and output lengths and of
each machine instruction's ROUGE-L to its most similar seed instruction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from generator.analysis.histograms import Histogram, histogram
from generator.analysis.lexical import word_count
from generator.analysis.quality import NO_REWARD_SCORER, Indicators
from generator.records import Instance


@dataclass(frozen=True, slots=True)
class TaskView:
    """A pool task as the analysis sees it."""

    task_id: int
    origin: str  # seed | machine
    instruction: str
    is_classification: bool | None
    instances: tuple[Instance, ...]


def task_histograms(
    tasks: Sequence[TaskView], seed_scores: Sequence[float], rouge_threshold: float = 0.7
) -> tuple[Histogram, ...]:
    """Instruction/input/output lengths, ROUGE-L of machine instructions to their nearest seed, instances.

    ``seed_scores`` holds one ROUGE-L F1 per machine instruction (the novelty index computes them).
    Inputs are counted only where an instance has one (Self-Instruct: "non-empty inputs").
    """
    instances = [i for t in tasks for i in t.instances]
    return (
        histogram(
            "Instruction length", [word_count(t.instruction) for t in tasks], unit="words", integer=True
        ),
        histogram(
            "Non-empty input length",
            [word_count(i.input) for i in instances if i.input.strip()],
            unit="words",
            integer=True,
        ),
        histogram("Output length", [word_count(i.output) for i in instances], unit="words", integer=True),
        histogram(
            "ROUGE-L to the most similar seed instruction",
            list(seed_scores),
            unit="ROUGE-L F1",
            value_range=(0.0, 1.0),
            bins=20,
            marker=rouge_threshold,
        ),
        histogram("Instances per task", [len(t.instances) for t in tasks], unit="instances", integer=True),
    )


def quality_histograms(rows: Sequence[Indicators], perplexity_reason: str) -> tuple[Histogram, ...]:
    """Distributions of every InstructMining indicator; nulls counted with why they are null."""
    return (
        histogram("Instruction + input length", [r.input_length for r in rows], unit="words", integer=True),
        histogram("Output length", [r.output_length for r in rows], unit="words", integer=True),
        histogram("MTLD of the output", [r.mtld for r in rows], unit="MTLD", missing_reason="empty output"),
        histogram(
            "KNN-6 distance",
            [r.knn6 for r in rows],
            unit="L2 on unit embeddings",
            missing_reason="pool smaller than 7 tasks",
        ),
        histogram(
            "Perplexity of the output",
            [r.perplexity for r in rows],
            unit="perplexity",
            missing_reason=perplexity_reason,
        ),
        histogram("Reward", [r.reward for r in rows], unit="reward", missing_reason=NO_REWARD_SCORER),
        histogram(
            "InstructMining rule (lower is better)",
            [r.rule_score for r in rows],
            unit="predicted loss",
            missing_reason="the rule needs a reward and KNN-6",
        ),
    )
