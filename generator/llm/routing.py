"""Requests routed by prompt family, so each embedded server's slot keeps one family's prefix.

A llama.cpp server reuses only the prefix it evaluated last. With one server, a round's stages
alternate on its single slot (generate, classify, instances, generate...), and every switch
evaluates a stage's ~650-token few-shot block again. :class:`PrefixAffinityClient` spreads the
families over several servers instead: a family is the request's stage and the first line of its
first prompt (the fixed header of its template: the two instance templates are two families).
A family sticks to the backend it was first given; families are dealt round-robin, so with as
many servers as families every slot holds its own family's prefix for the whole round.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from generator.llm.client import LLMClient
from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

__all__ = ["PrefixAffinityClient", "family_of"]


def family_of(prompts: Sequence[str], stage: Stage) -> tuple[str, str]:
    """The prompt family of a request: its stage and its first prompt's first line."""
    first = prompts[0] if prompts else ""
    return str(stage), first.split("\n", 1)[0]


class PrefixAffinityClient:
    """An :class:`LLMClient` over several backends of one model; each prompt family sticks to one."""

    def __init__(self, backends: Sequence[LLMClient]) -> None:
        if not backends:
            raise ValueError("PrefixAffinityClient needs at least one backend")
        self.backends = list(backends)
        self.model = self.backends[0].model
        self.api = self.backends[0].api
        self.max_prompts_per_request = self.backends[0].max_prompts_per_request
        self._assigned: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def backend_for(self, prompts: Sequence[str], stage: Stage) -> int:
        """The index of the backend serving this request's family (assigned on first sight)."""
        family = family_of(prompts, stage)
        with self._lock:
            if family not in self._assigned:
                self._assigned[family] = len(self._assigned) % len(self.backends)
            return self._assigned[family]

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        """Send the request to its family's backend; its answer (or stored error) unchanged."""
        return self.backends[self.backend_for(prompts, stage)].complete(prompts, decoding, stage)
