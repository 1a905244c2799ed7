"""What every normalization stage shares: its result record, the representative rule, tag frequencies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StageMapping:
    """What one normalization stage did: input tag -> output tag, and the distinct tags left."""

    mapping: Mapping[str, str] = field(hash=False)
    count: int


def representative(members: Iterable[str], frequency: Mapping[str, int]) -> str:
    """The member that names a merged group: most frequent, then shortest, then alphabetical."""
    return min(members, key=lambda tag: (-frequency.get(tag, 0), len(tag), tag))


def merge_groups(groups: Iterable[Sequence[str]], frequency: Mapping[str, int]) -> dict[str, str]:
    """Every member of every group -> its group's representative."""
    mapping: dict[str, str] = {}
    for members in groups:
        name = representative(members, frequency)
        mapping.update(dict.fromkeys(members, name))
    return mapping


def task_frequencies(task_sets: Iterable[Iterable[str]]) -> Counter[str]:
    """Tag -> number of tasks carrying it (each task counted once per tag)."""
    counts: Counter[str] = Counter()
    for tags in task_sets:
        counts.update(set(tags))
    return counts


def apply(mapping: Mapping[str, str], task_sets: Sequence[frozenset[str]]) -> list[frozenset[str]]:
    """Each task's tag set pushed through one stage's mapping (unmapped tags are dropped)."""
    return [frozenset(mapping[t] for t in tags if t in mapping) for tags in task_sets]
