"""What the policy reads: the pool's normalized tag counts and each example task's tags.

The policy never reads a database or a vocabulary itself: a :class:`CoverageSource` (the
InsTag storage, an in-process incremental counter, a test's hand-built dict) hands it a
:class:`Coverage` snapshot.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

__all__ = ["Coverage", "CoverageSource", "Example"]


@dataclass(frozen=True, slots=True)
class Example:
    """A pool task that may be shown in a prompt: its id and its instruction text."""

    task_id: int
    instruction: str


@dataclass(frozen=True, slots=True)
class Coverage:
    """A snapshot of normalized tag counts: ``counts[tag]`` = tasks of the pool carrying it.

    ``task_tags[task_id]`` are the normalized tags of the tagged tasks; a task that is not
    (yet) tagged is absent. ``vocabulary_version`` names the vocabulary the tags were
    normalized with (None when unknown), so a stored plan says what it was computed from.
    """

    counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    task_tags: Mapping[int, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    vocabulary_version: int | None = None

    @classmethod
    def from_task_tags(cls, task_tags: Mapping[int, Iterable[str]],
                       vocabulary_version: int | None = None) -> Coverage:
        """Count each task's distinct tags once: the pool's coverage from its tagged tasks."""
        frozen = {task_id: tuple(dict.fromkeys(tags)) for task_id, tags in task_tags.items()}
        counts = Counter(tag for tags in frozen.values() for tag in tags)
        return cls(MappingProxyType(dict(counts)), MappingProxyType(frozen), vocabulary_version)

    def with_tasks(self, task_tags: Mapping[int, Iterable[str]]) -> Coverage:
        """A new snapshot with ``task_tags`` added (or replacing a task's earlier tags).

        Incremental: only the counts of the added (and replaced) tasks' tags change; the cost is
        a copy of the two mappings, never a recount of the pool."""
        counts = dict(self.counts)
        merged = dict(self.task_tags)
        for task_id, tags in task_tags.items():
            for tag in merged.get(task_id, ()):
                counts[tag] -= 1
                if not counts[tag]:
                    del counts[tag]
            merged[task_id] = tuple(dict.fromkeys(tags))
            for tag in merged[task_id]:
                counts[tag] = counts.get(tag, 0) + 1
        return Coverage(MappingProxyType(counts), MappingProxyType(merged), self.vocabulary_version)

    def without(self, task_ids: Iterable[int]) -> Coverage:
        """A new snapshot with the tasks ``task_ids`` (and their tags' counts) removed."""
        gone = [t for t in task_ids if t in self.task_tags]
        if not gone:
            return self
        counts = dict(self.counts)
        for task_id in gone:
            for tag in self.task_tags[task_id]:
                counts[tag] -= 1
                if not counts[tag]:
                    del counts[tag]
        kept = {t: tags for t, tags in self.task_tags.items() if t not in set(gone)}
        return Coverage(MappingProxyType(counts), MappingProxyType(kept), self.vocabulary_version)

    @property
    def tagged_tasks(self) -> int:
        """How many tasks the snapshot has tags for."""
        return len(self.task_tags)


class CoverageSource(Protocol):
    """Where the policy's tag counts come from (InsTag storage, or an incremental counter)."""

    def coverage(self, pool_id: int) -> Coverage:
        """The pool's current normalized tag counts and per-task tags."""
        ...
