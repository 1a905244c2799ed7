"""The fleet's Celery tasks: thin wrappers over :mod:`generator.steps` and :mod:`workers.control`.

Messages carry ids only; results are in the database. Every task is idempotent (the steps'
database keys and status guards), acknowledged late, and retried with exponential backoff
only for :class:`generator.errors.TransientError` (endpoint or broker trouble that outlived the
client's own retries) and for the database going away. A task that fails for good frees its
claim, so the next tick sends it again. Tasks of a round that is no longer running do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from celery.signals import task_failure
from sqlalchemy.exc import OperationalError

from generator import steps
from generator.errors import TransientError
from workers import control, followups
from workers.app import app
from workers.context import current
from workers.schedule import start_scheduled_round

F = TypeVar("F", bound=Callable[..., Any])


def task(name: str, **options: Any) -> Callable[[F], F]:
    """``app.task`` with its type kept (Celery is untyped); messages are sent by name, never ``.delay``."""
    return cast(Callable[[F], F], app.task(name=name, **options))


# Retried: our transient errors, and the database going away or a deadlock/serialization failure.
# Countdowns stay well under the visibility timeout: the Redis broker holds a retry (an ETA
# message) unacknowledged until it is due, and would hand it out twice past the timeout.
RETRYING: dict[str, Any] = {
    "autoretry_for": (TransientError, OperationalError), "retry_backoff": 2, "retry_jitter": True,
    "max_retries": 8,
    "retry_backoff_max": max(1, min(120, int(app.conf.broker_transport_options["visibility_timeout"] / 3))),
}


def _release_on_failure(sender: Any = None, args: Any = None, exception: BaseException | None = None,
                        **_: Any) -> None:
    """A stage task that failed for good frees its claim, so the next tick re-sends the work; too
    many such failures fail the round (:func:`workers.control.note_failure`)."""
    name, args = getattr(sender, "name", ""), list(args or ())
    with control.best_effort("claim release"):
        wc = current()
        if name == "selfinstruct.generate" and len(args) > 1 and args[1] is not None:
            wc.hints.release_ticket(int(args[0]), int(args[1]))
        elif name == "selfinstruct.admit" and args:
            wc.hints.release("admit", int(args[0]))
        elif name in ("selfinstruct.classify", "selfinstruct.instances") and len(args) > 1:
            wc.hints.release_many(name.rsplit(".", 1)[1], followups.task_ids(args[1]))
        if name in STAGE_TASKS and args:
            control.note_failure(wc, int(args[0]), name, exception)


STAGE_TASKS = ("selfinstruct.generate", "selfinstruct.admit", "selfinstruct.classify",
               "selfinstruct.instances")
task_failure.connect(_release_on_failure, weak=False)


@task("selfinstruct.generate", **RETRYING)
def generate(round_id: int, ticket: int | None = None) -> int:
    """Propose new instructions for the round (one LLM request); returns how many candidates."""
    wc = current()
    running = wc.round_status(round_id) == "running"
    made = steps.generate(wc.step_context(round_id), round_id) if running else []
    followups.after_generate(wc, round_id, ticket, len(made))
    return len(made)


@task("selfinstruct.admit", **RETRYING)
def admit(round_id: int) -> list[int]:
    """Run the filters and exact novelty admission over the round's pending candidates."""
    wc = current()
    with control.best_effort("admit claim release"):
        wc.hints.release("admit", round_id)  # before reading: later candidates get a new message
    admitted = control.admit_round(wc, round_id)
    followups.after_admit(wc, round_id, admitted)
    return admitted


@task("selfinstruct.classify", **RETRYING)
def classify(round_id: int, task_ids: list[int]) -> list[int]:
    """Classify a batch of the round's tasks, then make their instances in the same message.

    Returns the ids of the tasks it classified now."""
    wc, ids = current(), followups.task_ids(task_ids)
    running = wc.round_status(round_id) == "running"
    answers = steps.classify(wc.step_context(round_id), ids) if running else {}
    followups.run_instances(wc, round_id, followups.after_classify(wc, round_id, ids))
    return sorted(answers)


@task("selfinstruct.instances", **RETRYING)
def instances(round_id: int, task_ids: list[int]) -> list[int]:
    """Make instances for a batch of classified tasks (a tick re-sending their missing step).

    Returns the ids of the tasks that got instances now."""
    return followups.run_instances(current(), round_id, followups.task_ids(task_ids))


@task("selfinstruct.tick")
def tick(round_id: int) -> str:
    """Re-derive and re-send the round's pending work from the database; end it when done."""
    return control.tick(current(), round_id)


@task("selfinstruct.tick_all")
def tick_all() -> dict[int, str]:
    """Tick every running fleet round (the beat schedule runs this every ``fleet_tick_s``)."""
    return control.tick_all(current())


@task("selfinstruct.start_scheduled_round")
def scheduled_round(pool: str, instructions: int, until_pool_size: int | None = None,
                    budget_tokens: int | None = None, deadline_minutes: float | None = None,
                    steer: str = "none") -> int | None:
    """Start a scheduled round unless the pool is busy or full; returns the round id or None."""
    wc = current()
    return start_scheduled_round(wc, pool, instructions, until_pool_size, budget_tokens, deadline_minutes,
                                 steer)
