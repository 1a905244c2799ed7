"""Diversity and complexity of a set of tagged tasks, against one vocabulary version (Lu et al., 2023, §3).

- ``unique_tags``: distinct normalized tags over the tasks (diversity, absolute);
- ``coverage``: ``unique_tags`` / the vocabulary's size (diversity, relative to that version);
- ``mean_tags_per_task``: mean number of normalized tags per task (complexity);
- ``entropy``: Shannon entropy, in bits, of the normalized tag distribution (how evenly tags are used).
Per group (round, origin) each figure comes with the same figures for a random subset of the same size
drawn from all tasks given (seeded): the baseline a group must beat to be more than a random draw.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from generator.instag.records import TaskTags, Vocabulary


@dataclass(frozen=True, slots=True)
class TagMetrics:
    """The figures of one set of tasks."""

    tasks: int
    unique_tags: int
    coverage: float
    mean_tags_per_task: float
    entropy: float


@dataclass(frozen=True, slots=True)
class GroupMetrics:
    """The figures of one group (round, origin) and of its equal-size random baseline."""

    round: int | None
    origin: str
    metrics: TagMetrics
    baseline: TagMetrics


def measure(tag_sets: Sequence[frozenset[str]], vocabulary_size: int) -> TagMetrics:
    """The figures of a list of normalized tag sets (one per task)."""
    counts: Counter[str] = Counter()
    for tags in tag_sets:
        counts.update(tags)
    total = sum(counts.values())
    entropy = -sum((c / total) * math.log2(c / total) for c in counts.values()) if total else 0.0
    return TagMetrics(
        tasks=len(tag_sets),
        unique_tags=len(counts),
        coverage=len(counts) / vocabulary_size if vocabulary_size else 0.0,
        mean_tags_per_task=total / len(tag_sets) if tag_sets else 0.0,
        entropy=entropy + 0.0,
    )


def measure_tasks(tasks: Sequence[TaskTags], vocabulary: Vocabulary) -> TagMetrics:
    """The figures of raw-tagged tasks once normalized through ``vocabulary``."""
    return measure([vocabulary.normalize(task.tags) for task in tasks], vocabulary.size)


def random_baseline(tag_sets: Sequence[frozenset[str]], size: int, vocabulary_size: int,
                    seed: int) -> TagMetrics:
    """The figures of ``size`` tasks drawn uniformly without replacement (seeded) from ``tag_sets``."""
    chosen = random.Random(seed).sample(range(len(tag_sets)), min(size, len(tag_sets)))
    return measure([tag_sets[i] for i in chosen], vocabulary_size)


def group_metrics(tasks: Sequence[TaskTags], vocabulary: Vocabulary, seed: int = 0) -> list[GroupMetrics]:
    """Figures per (round, origin), sorted seeds first then by round, each beside its random baseline
    drawn from all ``tasks``."""
    sets = [vocabulary.normalize(task.tags) for task in tasks]
    groups: dict[tuple[int | None, str], list[frozenset[str]]] = {}
    for task, tags in zip(tasks, sets, strict=True):
        groups.setdefault((task.round, task.origin), []).append(tags)
    ordered = sorted(groups, key=lambda key: (key[1] != "seed", -1 if key[0] is None else key[0], key[1]))
    return [
        GroupMetrics(round=key[0], origin=key[1], metrics=measure(groups[key], vocabulary.size),
                     baseline=random_baseline(sets, len(groups[key]), vocabulary.size, seed))
        for key in ordered
    ]
