"""The pool coverage a steered generate step reads: tagged incrementally, once per task per process.

Each process (the in-process runner, each fleet worker) keeps one :class:`PoolCoverage`. On
every steered generate step it reads only the tasks admitted since its last look (plus the
ids of machine tasks that stopped being live), tags the new ones with its
:class:`~generator.steering.lexical.Tagger`, maps their raw tags through the current
vocabulary (:class:`~generator.steering.incremental.TagMapper`; unmapped tags count as new)
and updates the counts -- the pool is never re-tagged nor re-normalized. Tasks enter the
counts when they are admitted (not when their instances are done), so a round steers away
from what it has just produced.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from generator.db import examples as example_reads
from generator.steering import Coverage, Example
from generator.steering.incremental import IdentityMapper, IncrementalCoverage, TagMapper
from generator.steering.lexical import LexicalTagger, Tagger

__all__ = ["PoolCoverage", "PoolSnapshot"]


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """What a steered prompt is planned from: the candidate examples by origin and the tag counts."""

    seeds: tuple[Example, ...]
    machine: tuple[Example, ...]
    coverage: Coverage


@dataclass
class _PoolState:
    counts: IncrementalCoverage
    last_id: int = 0
    seeds: dict[int, Example] = field(default_factory=dict)
    machine: dict[int, Example] = field(default_factory=dict)


class PoolCoverage:
    """Per-process, per-pool incremental tag coverage (thread-safe)."""

    def __init__(self, tagger: Tagger | None = None, mapper: TagMapper | None = None) -> None:
        self.tagger: Tagger = tagger or LexicalTagger()
        self.mapper: TagMapper = mapper or IdentityMapper()
        self._pools: dict[int, _PoolState] = {}
        self._lock = threading.Lock()

    def snapshot(self, session: Session, pool_id: int) -> PoolSnapshot:
        """Bring the pool's counts up to date with what ``session`` sees, and return them."""
        with self._lock:
            state = self._pools.get(pool_id)
            if state is None:
                state = self._pools[pool_id] = _PoolState(IncrementalCoverage(
                    Coverage(vocabulary_version=self.mapper.version), self.mapper))
            fresh = example_reads.live_tasks_after(session, pool_id, state.last_id)
            if fresh:
                tags = self.tagger.tag([text for _, _, text in fresh])
                state.counts.add({task_id: raw for (task_id, _, _), raw in zip(fresh, tags, strict=True)})
                for task_id, origin, text in fresh:
                    (state.seeds if origin == "seed" else state.machine)[task_id] = Example(task_id, text)
                state.last_id = fresh[-1][0]
            retired = example_reads.retired_machine_tasks(session, pool_id, state.last_id)
            retired &= set(state.machine)
            if retired:
                state.counts.remove(retired)
                for task_id in retired:
                    del state.machine[task_id]
            return PoolSnapshot(tuple(state.seeds.values()), tuple(state.machine.values()),
                                state.counts.coverage(pool_id))
