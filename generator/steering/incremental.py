"""Incremental coverage: add freshly tagged tasks to the counts without re-normalizing the pool.

During a steered round, tasks complete one batch at a time. Each new task's *raw* tags are
mapped through the current vocabulary version (a :class:`TagMapper`: the InsTag vocabulary's
raw -> normalized mapping plus its nearest-cluster lookup); a raw tag the vocabulary cannot
map counts as a new tag under its rule-normalized form (lower-case, one space), so coverage
grows when the model writes about something new. Nothing already counted is recomputed.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from generator.steering.coverage import Coverage

__all__ = ["IdentityMapper", "IncrementalCoverage", "TagMapper", "rule_form"]

_SPECIAL = re.compile(r"[^0-9a-z]+")


def rule_form(raw: str) -> str:
    """A raw tag's plain form: lower-case, every run of non-alphanumerics one space, stripped."""
    return _SPECIAL.sub(" ", raw.lower()).strip()


class TagMapper(Protocol):
    """Maps raw tags to the normalized tags of one vocabulary version."""

    @property
    def version(self) -> int | None:
        """The vocabulary version the mapping belongs to (None for an unversioned mapping)."""
        ...

    def map_tag(self, raw: str) -> str | None:
        """The normalized tag of ``raw``, or None when the vocabulary cannot place it."""
        ...


class IdentityMapper:
    """The mapper of a pool without a vocabulary yet: every tag is its own :func:`rule_form`."""

    version: int | None = None

    def map_tag(self, raw: str) -> str | None:
        """``rule_form(raw)``, or None for a tag with no letters or digits."""
        return rule_form(raw) or None


class IncrementalCoverage:
    """A :class:`~generator.steering.coverage.CoverageSource` that grows as tasks are tagged.

    Thread-safe: the in-process runner's generate jobs read it while tagging jobs add to it.
    ``new_tags`` counts the distinct raw tags that the vocabulary could not map.
    """

    def __init__(self, base: Coverage, mapper: TagMapper) -> None:
        self._coverage = base
        self._mapper = mapper
        self._lock = threading.Lock()
        self.new_tags: set[str] = set()

    def coverage(self, pool_id: int) -> Coverage:
        """The current snapshot (the same for every pool id: one instance serves one pool)."""
        with self._lock:
            return self._coverage

    def map_tags(self, raw_tags: Iterable[str]) -> tuple[str, ...]:
        """The normalized tags of one task's raw tags, unmapped ones in their rule form, deduplicated."""
        out: list[str] = []
        for raw in raw_tags:
            mapped = self._mapper.map_tag(raw)
            if mapped is None:
                mapped = rule_form(raw)
                if not mapped:
                    continue
                self.new_tags.add(mapped)
            out.append(mapped)
        return tuple(dict.fromkeys(out))

    def add(self, raw_tags_by_task: Mapping[int, Sequence[str]]) -> Coverage:
        """Map and add tasks' raw tags (a task seen before is replaced); returns the new snapshot."""
        mapped = {task_id: self.map_tags(raw) for task_id, raw in raw_tags_by_task.items()}
        with self._lock:
            self._coverage = self._coverage.with_tasks(mapped)
            return self._coverage

    def remove(self, task_ids: Iterable[int]) -> Coverage:
        """Drop tasks (e.g. ones that left the pool) from the counts; returns the new snapshot."""
        with self._lock:
            self._coverage = self._coverage.without(task_ids)
            return self._coverage
