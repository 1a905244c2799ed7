"""The round policy, pure: from a round's state to what its executor does next.

Both executors call :func:`decide` — the in-process runner (:mod:`generator.rounds.runner`) on
every turn of its loop, the fleet's tick (:mod:`workers.control`) on every tick — so a round
ends for the same reasons, with the same words, however it runs.

The failure rule (checked first, in this order):

1. **Permanent refusals stop at once**: the last :data:`PERMANENT_REFUSALS` (3) LLM requests of the
   round in one stage (generate, classify, instances, tag) were refused for good (400/401/403/404/
   422..., never retried) → the round fails with the server's message (API keys redacted by the client).
2. **Transient failures stop when they persist**: the last :data:`TRANSIENT_FAILURES` (8) requests all
   failed after the client's own retries (429/5xx/timeouts/garbage) → the round fails.
3. **Stage work failing for other reasons** (database, broker, a bug): :data:`STAGE_FAILURES` (5)
   of them (in a row in-process; after Celery's retries on the fleet) → the round fails naming it.
4. **No progress**: while short of its target, the round's last :data:`FRUITLESS_GENERATES` (50)
   generate requests yielded no admitted instruction → the round fails (an endpoint answering in
   no usable shape, or a pool that cannot take anything new).

Then: a stop request (Ctrl-C) winds down; a reached budget or deadline ends the round
``completed`` with that reason; the target reached with every task settled ends it ``completed``
(``target``) — with tagging on, once every complete task is tagged too (a tag attempt that failed for
good counts as tagged: it is stored, with the raw text); otherwise more generation is asked for
(:class:`Generate`) or the executor waits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from generator.llm.client import is_permanent_refusal

PERMANENT_REFUSALS = 3
TRANSIENT_FAILURES = 8
STAGE_FAILURES = 5
FRUITLESS_GENERATES = 50
ITEMS_PER_REQUEST_GUESS = 5.0  # before the round has its own figures (the prompt asks for ~8)
RECENT_REQUESTS = TRANSIENT_FAILURES  # how many outcomes a state carries


@dataclass(frozen=True, slots=True)
class Yield:
    """The round's observed yield so far, to size generation (all counts of this round)."""

    admitted: int = 0          # candidates admitted
    rejected: int = 0          # candidates rejected
    pending: int = 0           # candidates not judged yet
    no_instances: int = 0      # tasks that ended without instances
    generate_requests: int = 0


@dataclass(frozen=True, slots=True)
class RoundState:
    """What the policy looks at: counts of one running round, as read by its executor.

    ``recent_errors`` holds the ``error`` of the round's newest LLM requests, newest first (None
    for a success), at most :data:`RECENT_REQUESTS` of them; ``stage_errors`` the same per stage,
    at most :data:`PERMANENT_REFUSALS` each.
    """

    target: int
    live: int                               # admitted tasks not ended without instances
    open_tasks: int                         # tasks still waiting for classification/instances
    now: datetime
    tokens_used: int = 0
    budget_tokens: int | None = None
    deadline: datetime | None = None
    produced: Yield = Yield()
    recent_errors: tuple[str | None, ...] = ()
    stage_errors: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    fruitless_generates: int = 0            # newest generate requests in a row with nothing admitted
    stage_failures: int = 0
    last_stage_failure: str = ""
    stop_requested: bool = False
    untagged: int = 0                       # complete tasks a round with tagging on has not tagged yet


@dataclass(frozen=True, slots=True)
class Generate:
    """Keep this many generate requests in flight (the executor caps it by its concurrency)."""

    requests: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Nothing to start: wait for work in flight (classification, instances, admission)."""


@dataclass(frozen=True, slots=True)
class Done:
    """The target is reached and every admitted task is settled (and tagged, with tagging on): end
    ``completed`` (``target``)."""

    reason: Literal["target"] = "target"


@dataclass(frozen=True, slots=True)
class Limit:
    """The budget or deadline is reached: end ``completed`` with that reason once work in flight is in."""

    reason: Literal["budget", "deadline"]


@dataclass(frozen=True, slots=True)
class Failing:
    """End the round ``failed`` (reason ``error``) with ``cause`` as its stored error."""

    cause: str


@dataclass(frozen=True, slots=True)
class Interrupt:
    """Stop starting work; leave the round running so that rerunning the command resumes it."""


Decision = Generate | Wait | Done | Limit | Failing | Interrupt


def decide(state: RoundState) -> Decision:
    """The next step for the round in ``state`` (see the module docstring for the rules and their order)."""
    cause = failure_cause(state)
    if cause is not None:
        return Failing(cause)
    if state.stop_requested:
        return Interrupt()
    limit = limit_reached(state)
    if limit is not None:
        return Limit(limit)
    if state.live >= state.target:
        return Done() if state.open_tasks == 0 and state.untagged == 0 else Wait()
    wanted = generate_wanted(state)
    return Generate(wanted) if wanted > 0 else Wait()


def failure_cause(state: RoundState) -> str | None:
    """Why the round must fail now (the failure rule), or None."""
    for stage, errors in state.stage_errors.items():
        refusals = errors[:PERMANENT_REFUSALS]
        if len(refusals) == PERMANENT_REFUSALS and all(e and is_permanent_refusal(e) for e in refusals):
            return f"the endpoint refused {PERMANENT_REFUSALS} {stage} requests in a row: {refusals[0]}"
    failures = state.recent_errors[:TRANSIENT_FAILURES]
    if len(failures) == TRANSIENT_FAILURES and all(e is not None for e in failures):
        return f"the last {TRANSIENT_FAILURES} LLM requests failed; the last: {failures[0]}"
    if state.stage_failures >= STAGE_FAILURES:
        return f"{state.stage_failures} stage tasks failed; the last, {state.last_stage_failure}"[:2000]
    if state.live < state.target and state.fruitless_generates >= FRUITLESS_GENERATES:
        return (f"no progress: the last {state.fruitless_generates} generate requests yielded no admitted "
                "instruction (see `selfinstruct pool stats` for the rejection reasons)")
    return None


def limit_reached(state: RoundState) -> Literal["budget", "deadline"] | None:
    """``budget`` or ``deadline`` once the round is past it, else None."""
    if state.budget_tokens is not None and state.tokens_used >= state.budget_tokens:
        return "budget"
    if state.deadline is not None:
        deadline = state.deadline if state.deadline.tzinfo else state.deadline.replace(tzinfo=UTC)
        if state.now >= deadline:
            return "deadline"
    return None


def generate_wanted(state: RoundState) -> int:
    """Generate requests to keep in flight: enough for the shortfall at the round's observed yield.

    Yield per request = candidates per request x share admitted x share keeping instances; pending
    candidates count at that yield. The executor caps the answer (the fleet at ``fleet_inflight``,
    in-process at ``llm_concurrency``), which bounds the surplus generated past the target.
    """
    need = state.target - state.live
    if need <= 0:
        return 0
    y = state.produced
    accept = y.admitted / (y.admitted + y.rejected) if y.admitted + y.rejected >= 20 else 1.0
    ended = state.live + y.no_instances
    keep = state.live / ended if ended >= 10 else 1.0
    candidates = y.admitted + y.rejected + y.pending
    per_request = candidates / y.generate_requests if y.generate_requests >= 3 else ITEMS_PER_REQUEST_GUESS
    shortfall = need - y.pending * accept * keep
    if shortfall <= 0:
        return 0
    return math.ceil(shortfall / max(0.25, per_request * accept * keep))
