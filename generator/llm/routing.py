"""Requests routed by prompt family, so each embedded server's slot keeps one family's prefix.

A llama.cpp server reuses only the prefix it evaluated last. With one server, a round's stages
alternate on its single slot (generate, classify, instances, generate...), and every switch
evaluates a stage's ~650-token few-shot block again. :class:`PrefixAffinityClient` spreads the
families over several servers instead: a family is the request's stage and the first line of its
first prompt (the fixed header of its template: the two instance templates are two families).

* A family of a *pinned* stage (classification, instances, tagging) is pinned to one backend the
  first time it is seen, and sticks to it, so its slot keeps that family's few-shot block.
* Generation is *unpinned*: its prompts are the paper's freshly sampled in-context examples
  (§2.2), so consecutive prompts share only the header and stickiness would buy nothing. Its
  requests go to the least busy backend no family is pinned to, in parallel when there are
  several: a round keeps several generate requests in flight, and on one server they would queue
  behind each other while the other cores wait for the classification they feed.
* Pinning never takes the last unpinned backend (generation keeps one); families beyond that
  share the backends that hold the fewest families, as they would on one server.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection, Sequence

from generator.llm.client import LLMClient
from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

__all__ = ["UNPINNED_STAGES", "PrefixAffinityClient", "family_of"]

# Stages whose prompts share no reusable prefix (the in-context examples are sampled per prompt).
UNPINNED_STAGES: frozenset[Stage] = frozenset({Stage.GENERATE})


def family_of(prompts: Sequence[str], stage: Stage) -> tuple[str, str]:
    """The prompt family of a request: its stage and its first prompt's first line."""
    first = prompts[0] if prompts else ""
    return str(stage), first.split("\n", 1)[0]


class PrefixAffinityClient:
    """An :class:`LLMClient` over several backends of one model: each family of a pinned stage sticks
    to one backend; unpinned stages spread over the backends no family holds (module docstring)."""

    def __init__(self, backends: Sequence[LLMClient], unpinned: Collection[Stage] = UNPINNED_STAGES) -> None:
        if not backends:
            raise ValueError("PrefixAffinityClient needs at least one backend")
        self.backends = list(backends)
        self.model = self.backends[0].model
        self.api = self.backends[0].api
        self.max_prompts_per_request = self.backends[0].max_prompts_per_request
        self.unpinned = frozenset(unpinned)
        self._pinned: dict[tuple[str, str], int] = {}
        self._busy = [0] * len(self.backends)  # requests in flight per backend
        self._lock = threading.Lock()

    def backend_for(self, prompts: Sequence[str], stage: Stage) -> int:
        """The index of the backend that serves this request now (a new family is pinned on first sight)."""
        with self._lock:
            return self._choose(prompts, stage)

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        """Send the request to the backend :meth:`backend_for` names; its answer (or error) unchanged."""
        with self._lock:
            index = self._choose(prompts, stage)
            self._busy[index] += 1
        try:
            return self.backends[index].complete(prompts, decoding, stage)
        finally:
            with self._lock:
                self._busy[index] -= 1

    def _choose(self, prompts: Sequence[str], stage: Stage) -> int:
        everyone = range(len(self.backends))
        held = Counter(self._pinned.values())  # families pinned to each backend
        free = [i for i in everyone if not held[i]]
        if stage in self.unpinned:
            return self._least_busy(free or everyone)
        family = family_of(prompts, stage)
        if family not in self._pinned:
            kept = 1 if self.unpinned else 0  # the free backend left to the unpinned stages
            if len(free) > kept:
                self._pinned[family] = self._least_busy(free)
            else:  # none to spare: share a pinned backend (the one holding the fewest families)
                self._pinned[family] = min(held or everyone, key=lambda i: (held[i], i))
        return self._pinned[family]

    def _least_busy(self, candidates: Sequence[int]) -> int:
        return min(candidates, key=lambda i: (self._busy[i], i))
