"""Selecting a subset of the pool by InstructMining quality, and the random baseline to compare with.

Quality selection keeps the ``n`` tasks with the lowest rule score (the rule predicts a loss: lower is
better; InstructMining §4). Tasks whose score is null (no reward scorer, too small a pool for KNN-6)
cannot be ranked and are never picked: the result says how many were eligible instead of padding.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from generator.analysis.quality import Indicators


@dataclass(frozen=True, slots=True)
class Selection:
    """The chosen task ids in rank order, and how many tasks could be ranked at all."""

    strategy: str
    task_ids: tuple[int, ...]
    eligible: int
    requested: int


def select_by_quality(rows: Sequence[Indicators], n: int) -> Selection:
    """The ``n`` lowest rule scores (ties by task id); fewer when fewer tasks have a score."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    scored = sorted((r for r in rows if r.rule_score is not None), key=lambda r: (r.rule_score, r.task_id))
    return Selection("quality", tuple(r.task_id for r in scored[:n]), len(scored), n)


def select_randomly(task_ids: Sequence[int], n: int, rng: random.Random) -> Selection:
    """A uniform random sample of ``n`` task ids (all of them when the pool is smaller): the baseline."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    pool = sorted(task_ids)
    picked = rng.sample(pool, min(n, len(pool)))
    return Selection("random", tuple(picked), len(pool), n)
