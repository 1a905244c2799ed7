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
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from generator.steering.coverage import Coverage

__all__ = ["FunctionMapper", "IdentityMapper", "IncrementalCoverage", "TagMapper", "rule_form"]

_SPECIAL = re.compile(r"[^0-9a-z]+")


def rule_form(raw: str) -> str:
    """A raw tag's plain form: lower-case, every run of non-alphanumerics one space, stripped."""
    return _SPECIAL.sub(" ", raw.lower()).strip()


class TagMapper(Protocol):
    """Maps raw tags to the normalized tags of one vocabulary version, a batch at a time.

    InsTag's incremental mapping (``generator.instag.mapping.map_tags(raw_tags, index, embedder)``:
    known raw tag, then rule key, then nearest cluster within eps, else None) fits as
    ``FunctionMapper(partial(map_tags, index=..., embedder=...), version)``.
    """

    @property
    def version(self) -> int | None:
        """The vocabulary version the mapping belongs to (None for an unversioned mapping)."""
        ...

    def map_tags(self, raw_tags: Sequence[str]) -> Mapping[str, str | None]:
        """Each raw tag -> its normalized tag, or None when the vocabulary cannot place it."""
        ...


class IdentityMapper:
    """The mapper of a pool without a vocabulary yet: every tag is its own :func:`rule_form`."""

    version: int | None = None

    def map_tags(self, raw_tags: Sequence[str]) -> Mapping[str, str | None]:
        """``rule_form(raw)`` of each tag, or None for a tag with no letters or digits."""
        return {raw: rule_form(raw) or None for raw in raw_tags}


class FunctionMapper:
    """A :class:`TagMapper` over a batch mapping function (e.g. InsTag's ``map_tags``, partially applied)."""

    def __init__(self, function: Callable[[Sequence[str]], Mapping[str, str | None]],
                 version: int | None) -> None:
        self._function = function
        self.version = version

    def map_tags(self, raw_tags: Sequence[str]) -> Mapping[str, str | None]:
        """What the function says for the distinct raw tags."""
        return self._function(list(dict.fromkeys(raw_tags)))


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

    @property
    def version(self) -> int | None:
        """The vocabulary version of the mapper the counts are mapped through."""
        return self._mapper.version

    def coverage(self, pool_id: int) -> Coverage:
        """The current snapshot (the same for every pool id: one instance serves one pool)."""
        with self._lock:
            return self._coverage

    def add(self, raw_tags_by_task: Mapping[int, Sequence[str]]) -> Coverage:
        """Map (one batch for all tasks) and add tasks' raw tags; a task seen before is replaced.

        A raw tag the vocabulary cannot place counts under its rule form (a new tag, recorded in
        ``new_tags``); a tag with no letters or digits is dropped. Returns the new snapshot."""
        mapped = self._mapper.map_tags([raw for raws in raw_tags_by_task.values() for raw in raws])
        by_task: dict[int, tuple[str, ...]] = {}
        for task_id, raws in raw_tags_by_task.items():
            tags: list[str] = []
            for raw in raws:
                tag = mapped.get(raw)
                if tag is None and (tag := rule_form(raw)):
                    self.new_tags.add(tag)
                if tag:
                    tags.append(tag)
            by_task[task_id] = tuple(dict.fromkeys(tags))
        with self._lock:
            self._coverage = self._coverage.with_tasks(by_task)
            return self._coverage

    def remove(self, task_ids: Iterable[int]) -> Coverage:
        """Drop tasks (e.g. ones that left the pool) from the counts; returns the new snapshot."""
        with self._lock:
            self._coverage = self._coverage.without(task_ids)
            return self._coverage
