"""The seams the pipeline depends on for model endpoints: small Protocols, no implementation.

:class:`LLMClient` is implemented by :class:`generator.llm.openai_client.OpenAIClient` (any
OpenAI-compatible endpoint, the embedded server included); :class:`Throttle` by the Redis rate limiter
in :mod:`generator.llm.ratelimit`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from generator.records import LLMCall, Stage
from generator.selfinstruct.params import Decoding

__all__ = ["TRANSIENT_4XX", "LLMClient", "Throttle", "is_permanent_refusal"]

TRANSIENT_4XX = frozenset({408, 409, 429})  # the 4xx answers that mean "try again", as openai's own client
_STATUS = re.compile(r"^(\d{3})\b")


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


def is_permanent_refusal(error: str) -> bool:
    """Whether a stored request ``error`` is the endpoint refusing for good (a 4xx that is not retried).

    The client stores such errors as ``"<status> <phrase>: <server message>"``; every other
    failure (429/5xx, timeouts, connection errors, malformed bodies) is transient.
    """
    match = _STATUS.match(error)
    return match is not None and 400 <= int(match.group(1)) < 500 and int(match.group(1)) not in TRANSIENT_4XX

