"""What the database hands the analysis: a pool's tasks, counts and stored indicators, as plain records."""

from __future__ import annotations

from dataclasses import dataclass

from generator.analysis.poolstats import TaskView
from generator.analysis.quality import Indicators
from generator.analysis.reportdata import (
    FunnelStep,
    PoolSummary,
    RejectionCount,
    RoundUsage,
    SimilarPair,
)
from generator.analysis.tagrounds import NO_TAG_SECTION, TagSection


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """One consistent read of a pool, enough to build its report."""

    summary: PoolSummary
    tasks: tuple[TaskView, ...]
    funnel: tuple[FunnelStep, ...]
    rejections: tuple[RejectionCount, ...]
    rounds: tuple[RoundUsage, ...]
    similar_pairs: tuple[SimilarPair, ...]
    indicators: tuple[Indicators, ...]
    tags: TagSection = NO_TAG_SECTION
    rouge_threshold: float = 0.7
