"""The seams the pipeline depends on for model endpoints: small Protocols, no implementation.

:class:`LLMClient` is implemented by :class:`generator.llm.openai_client.OpenAIClient` (any
OpenAI-compatible endpoint, the embedded server included); :class:`Throttle` by the Redis rate limiter
in :mod:`generator.llm.ratelimit`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

__all__ = ["LLMClient", "Throttle"]


class Throttle(Protocol):
    """A (possibly fleet-wide) rate limiter; ``acquire`` blocks until the request may be sent."""

    def acquire(self, requests: int, tokens: int) -> None: ...


class LLMClient(Protocol):
    """What the pipeline needs from an LLM endpoint."""

    model: str
    api: str                      # "completions" | "chat"
    max_prompts_per_request: int  # > 1 only for the completions API, which accepts a list of prompts

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        """One choice per prompt, in prompt order; endpoint failures come back as ``LLMCall.error``."""
        ...
