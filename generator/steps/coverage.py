"""The pool coverage a steered generate step reads, refreshed incrementally, once per task per process.

Each process (the in-process runner, each fleet worker) keeps one :class:`PoolCoverage`. On every
steered generate step it reads only what changed since its last look and updates the counts; the
pool is never re-tagged nor re-normalized:

* the tasks admitted since then (ids grow with admission, serialized per pool), and the ids of
  machine tasks that stopped being live: the examples a prompt may show;
* **stored tags** (the default): the InsTag taggings written since then (``task_taggings`` ids grow
  with tagging), whoever wrote them -- the in-process round's tag jobs (:func:`tag_round_tasks`,
  requests stored as stage ``tag``), the fleet's ``tag`` stage, or ``selfinstruct tag``;
* or, only when asked for explicitly (``SELFINSTRUCT_STEERING_TAGGER=lexical``), the lexical
  stand-in tagger (:mod:`generator.steering.lexical`) run here on the new tasks' instructions.

Raw tags are mapped through the pool's current vocabulary version (InsTag's incremental mapping:
known tag, rule key, nearest cluster within eps; unmapped tags count as new, in rule form); a pool
with no vocabulary yet maps every tag to its rule form. When a newer vocabulary version appears,
the counts are rebuilt once against it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from generator.db import coverage as coverage_reads
from generator.db import examples as example_reads
from generator.db import tags as tag_store
from generator.instag.embedding import Embedder
from generator.instag.mapping import build_index, map_tags
from generator.steering import Coverage, Example
from generator.steering.incremental import FunctionMapper, IdentityMapper, IncrementalCoverage, TagMapper
from generator.steering.lexical import Tagger

if TYPE_CHECKING:  # context.py holds a PoolCoverage: import it for types only
    from generator.steps.context import StepContext

__all__ = ["PoolCoverage", "PoolSnapshot", "tag_round_tasks", "vocabulary_mapper"]


@dataclass(frozen=True, slots=True)
class PoolSnapshot:
    """What a steered prompt is planned from: the candidate examples by origin and the tag counts."""

    seeds: tuple[Example, ...]
    machine: tuple[Example, ...]
    coverage: Coverage


@dataclass
class _PoolState:
    counts: IncrementalCoverage
    last_id: int = 0          # the last task id read
    last_tagging: int = 0     # the last task_taggings id read (stored-tags mode)
    seeds: dict[int, Example] = field(default_factory=dict)
    machine: dict[int, Example] = field(default_factory=dict)


def _wordllama() -> Embedder:
    from generator.llm.embedder import build_embedder

    return build_embedder("wordllama")


def vocabulary_mapper(session: Session, pool_id: int, embedder: Callable[[], Embedder]) -> TagMapper:
    """The pool's newest vocabulary version as a :class:`TagMapper` (InsTag ``map_tags`` over its index);
    the identity (rule form) mapper when the pool has none yet. ``embedder`` is called only then."""
    version = coverage_reads.latest_vocabulary_id(session, pool_id)
    if version is None:
        return IdentityMapper()
    _, vocabulary = tag_store.load_vocabulary(session, pool_id, version)
    model = embedder()
    return FunctionMapper(partial(map_tags, index=build_index(vocabulary, model), embedder=model), version)


class PoolCoverage:
    """Per-process, per-pool incremental tag coverage (thread-safe; see the module docstring).

    ``tagger`` None (the default) reads stored InsTag tags; a tagger (the lexical stand-in) tags in
    process instead. ``mapper`` fixes the vocabulary; None follows the pool's newest version,
    whose nearest-cluster lookup uses ``embedder()`` (WordLlama by default, built on first need).
    """

    def __init__(self, tagger: Tagger | None = None, mapper: TagMapper | None = None,
                 embedder: Callable[[], Embedder] | None = None) -> None:
        self.tagger = tagger
        self.mapper = mapper
        self._embedder = embedder or _wordllama
        self._model: Embedder | None = None
        self._pools: dict[int, _PoolState] = {}
        self._lock = threading.Lock()

    @property
    def reads_stored_tags(self) -> bool:
        """Whether counts come from stored taggings (so an in-process steered round must tag its tasks)."""
        return self.tagger is None

    def snapshot(self, session: Session, pool_id: int) -> PoolSnapshot:
        """Bring the pool's counts up to date with what ``session`` sees, and return them."""
        with self._lock:
            state = self._state(session, pool_id)
            fresh = example_reads.live_tasks_after(session, pool_id, state.last_id)
            for task_id, origin, text in fresh:
                (state.seeds if origin == "seed" else state.machine)[task_id] = Example(task_id, text)
            if fresh:
                state.last_id = fresh[-1][0]
            if self.tagger is not None:
                if fresh:
                    raws = self.tagger.tag([text for _, _, text in fresh])
                    state.counts.add({t: raw for (t, _, _), raw in zip(fresh, raws, strict=True)})
            else:
                state.last_tagging, stored = coverage_reads.taggings_after(
                    session, pool_id, state.last_tagging)
                # Only live tasks count (a task is admitted, hence seen above, before it can be tagged).
                live = {t: raws for t, raws in stored.items() if t in state.seeds or t in state.machine}
                if live:
                    state.counts.add(live)
            retired = example_reads.retired_machine_tasks(session, pool_id, state.last_id)
            retired &= set(state.machine)
            if retired:
                state.counts.remove(retired)
                for task_id in retired:
                    del state.machine[task_id]
            return PoolSnapshot(tuple(state.seeds.values()), tuple(state.machine.values()),
                                state.counts.coverage(pool_id))

    def _state(self, session: Session, pool_id: int) -> _PoolState:
        """The pool's state; started afresh on first use and whenever a newer vocabulary version appears."""
        state = self._pools.get(pool_id)
        if self.mapper is not None:
            mapper = self.mapper
        elif state is None or coverage_reads.latest_vocabulary_id(session, pool_id) != state.counts.version:
            mapper = vocabulary_mapper(session, pool_id, self._embedding_model)
        else:
            return state
        if state is None or mapper is not self.mapper:
            state = self._pools[pool_id] = _PoolState(IncrementalCoverage(
                Coverage(vocabulary_version=mapper.version), mapper))
        return state

    def _embedding_model(self) -> Embedder:
        if self._model is None:
            self._model = self._embedder()
        return self._model


def tag_round_tasks(ctx: StepContext, pool_id: int, round_id: int, task_ids: Sequence[int]) -> dict[str, int]:
    """Tag (InsTag, through ``ctx.client``, stored as stage ``tag``) the round's complete, still untagged
    tasks among ``task_ids``: the in-process steered round's tag job. Idempotent (a tagged task is
    skipped)."""
    from generator.steps.tagging import tag_tasks

    wanted = set(task_ids)
    with ctx.sessions() as session:
        tasks = [t for t in tag_store.untagged_tasks(session, pool_id, round_id) if t.task_id in wanted]
    return tag_tasks(ctx, tasks) if tasks else {"tagged": 0, "failed": 0, "transient": 0}
