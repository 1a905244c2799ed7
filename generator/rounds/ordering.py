"""The order in which the in-process runner sends its requests, so that prompt caches get reused.

A llama.cpp server (the embedded default) evaluates one request at a time and, without a RAM
prompt cache, reuses only the prefix it evaluated last; every prompt of a stage (and of one
instance template) starts with the same few-shot block. So the runner sends one stage's requests
back to back -- instances of classification tasks (output-first prompt), then those of the other
tasks (input-first prompt), then classification, then generation -- and, on the embedded server,
one request at a time: more requests in flight would only reach its single slot in a random order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from generator.settings import Settings

__all__ = ["STAGE_ORDER", "order_by_prompt_prefix", "request_slots", "same_stage_first"]

J = TypeVar("J", bound=tuple[str, tuple[int, ...]])

# Stages in the order the runner submits them; earlier stages finish tasks (free the round sooner).
STAGE_ORDER = ("instances", "classify", "generate")


class _Classified(Protocol):
    id: int
    is_classification: bool | None


def order_by_prompt_prefix(tasks: Sequence[_Classified]) -> list[int]:
    """Task ids grouped by the instance prompt they get: output-first (classification) tasks first,
    then the input-first ones; stable within a group (task-id order as given)."""
    return [t.id for t in sorted(tasks, key=lambda t: t.is_classification is not True)]


def same_stage_first(jobs: Sequence[J], last_kind: str) -> list[J]:
    """``jobs`` with those of the stage sent last first (stable otherwise).

    With one request at a time, the priority "instances first" alone alternates classification
    and instance prompts task by task (each finished classification opens one instance job), so
    the server's slot never holds the next prompt's prefix: bench/tokens.py measured 1 token
    reused per request that way. Draining the current stage first keeps its few-shot block there.
    """
    return sorted(jobs, key=lambda job: job[0] != last_kind)


def request_slots(settings: Settings, prefix_ordered: bool = True) -> int:
    """Requests the runner keeps in flight: 1 on the embedded server when requests are ordered for
    prefix reuse (it serves one at a time anyway), else ``llm_concurrency``."""
    if settings.embedded and prefix_ordered:
        return 1
    return settings.llm_concurrency
