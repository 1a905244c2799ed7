"""The fleet's Celery tasks: thin wrappers over :mod:`generator.steps` and :mod:`workers.control`.

Messages carry ids only; results are in the database. Every task is idempotent (the steps'
database keys and status guards), acknowledged late, and retried with exponential backoff
only for :class:`generator.errors.TransientError` (endpoint or broker trouble that outlived the
client's own retries) and for the database going away. A running stage task leases its items
(:mod:`workers.heartbeat`); one that fails for good frees them, so the next tick sends it again.
Tasks of a round that is no longer running do nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from celery import current_task
from celery.signals import task_failure
from sqlalchemy.exc import OperationalError

from generator import steps
from generator.db.statuses import RoundStatus
from generator.errors import TransientError
from workers import control, followups
from workers.app import app
from workers.context import current
from workers.heartbeat import ticket_leased
from workers.leases import new_token
from workers.schedule import normalize_scheduled, start_scheduled_round

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


def _release_on_failure(sender: Any = None, task_id: str | None = None, args: Any = None,
                        exception: BaseException | None = None, **_: Any) -> None:
    """A stage task that failed for good frees its claims and leases, so the next tick re-sends the
    work; too many such failures fail the round (:func:`workers.control.note_failure`)."""
    name, args, token = getattr(sender, "name", ""), list(args or ()), str(task_id)
    with control.best_effort("claim release"):
        wc = current()
        if name == "selfinstruct.generate" and len(args) > 1 and args[1] is not None:
            wc.leases.release_ticket(int(args[0]), int(args[1]))
        elif name == "selfinstruct.admit" and args:
            wc.leases.release(int(args[0]), "admit", [int(args[0])], token)
        elif name in ("selfinstruct.classify", "selfinstruct.instances") and len(args) > 1:
            for kind in ("classify", "instances"):
                wc.leases.release(int(args[0]), kind, followups.task_ids(args[1]), token)
        elif name == "selfinstruct.tag" and len(args) > 1:
            wc.leases.release(int(args[0]), "tag", followups.task_ids(args[1]), token)
        if name in STAGE_TASKS and args:
            control.note_failure(wc, int(args[0]), name, exception)


def _token() -> str:
    """The running message's id: the owner its claims and leases name."""
    ident = current_task.request.id if current_task else None
    return str(ident) if ident else new_token()


STAGE_TASKS = ("selfinstruct.generate", "selfinstruct.admit", "selfinstruct.classify",
               "selfinstruct.instances", "selfinstruct.tag")
task_failure.connect(_release_on_failure, weak=False)


@task("selfinstruct.generate", **RETRYING)
def generate(round_id: int, ticket: int | None = None) -> int:
    """Propose new instructions for the round (one LLM request); returns how many candidates.

    Skipped when its ticket expired before it started (a tick has sent a replacement)."""
    wc = current()
    with ticket_leased(wc.leases, round_id, ticket, _token()) as live:
        running = live and wc.round_status(round_id) == RoundStatus.RUNNING
        made = steps.generate(wc.step_context(round_id), round_id) if running else []
    followups.after_generate(wc, round_id, ticket, len(made))
    return len(made)


@task("selfinstruct.admit", **RETRYING)
def admit(round_id: int) -> list[int]:
    """Run the filters and exact novelty admission over the round's pending candidates."""
    wc = current()
    with control.best_effort("admit claim release"):
        # Before reading: later candidates get a new message (admissions serialize on the pool lock).
        wc.leases.release(round_id, "admit", [round_id], _token())
    admitted = control.admit_round(wc, round_id)
    followups.after_admit(wc, round_id, admitted)
    return admitted


@task("selfinstruct.classify", **RETRYING)
def classify(round_id: int, task_ids: list[int]) -> list[int]:
    """Classify a batch of the round's tasks, then make their instances in the same message.

    Returns the ids of the tasks it classified now."""
    return followups.classify_batch(current(), round_id, followups.task_ids(task_ids), _token())


@task("selfinstruct.instances", **RETRYING)
def instances(round_id: int, task_ids: list[int]) -> list[int]:
    """Make instances for a batch of classified tasks (a tick re-sending their missing step).

    Returns the ids of the tasks that got instances now."""
    return followups.run_instances(current(), round_id, followups.task_ids(task_ids), _token())


@task("selfinstruct.tag", **RETRYING)
def tag(round_id: int, task_ids: list[int]) -> list[int]:
    """Tag (InsTag) a batch of the round's complete tasks; a task already tagged is skipped.

    Returns the ids of the tasks whose tagging (tags, or a failure with the raw text) it stored."""
    return followups.run_tagging(current(), round_id, followups.task_ids(task_ids), _token())


@task("selfinstruct.normalize_tags", **RETRYING)
def normalize_tags(pool: str) -> int | None:
    """Re-normalize a pool's tags into a new vocabulary version (scheduled); None when nothing new."""
    return normalize_scheduled(current(), pool)


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
                    steer: str = "none", tag: bool = False) -> int | None:
    """Start a scheduled round unless the pool is busy or full; returns the round id or None."""
    wc = current()
    return start_scheduled_round(wc, pool, instructions, until_pool_size, budget_tokens, deadline_minutes,
                                 steer, tag)
