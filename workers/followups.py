"""What each stage task does around its step: hold its leases, then ask for the next piece of work.

Classification and instances run in one message per batch of tasks (:func:`classify_batch`
leases the batch for instances before letting its classify leases go, and the same process
makes the instances): one message, one context lookup and one trip through the worker's main
process per batch.
The ``instances`` message remains for ticks re-sending classified tasks whose instances are
missing. Batches hold up to ``Settings.prompts_per_request`` tasks: the step sends them in one
completions request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from generator import steps
from generator.db import repository as repo
from generator.db.models import Round, Task
from workers import control
from workers.context import WorkerContext
from workers.heartbeat import leased
from workers.state import OPEN_STATUSES


def task_ids(value: Any) -> list[int]:
    """The task ids a message carries: a list (or, from an older sender, one id)."""
    return [int(value)] if isinstance(value, int) else [int(i) for i in value]


def after_generate(wc: WorkerContext, round_id: int, ticket: int | None, produced: int) -> None:
    """A generate message has run: free its ticket, ask for admission of what it produced (or replace it)."""
    with control.best_effort("generate follow-up"):
        if ticket is not None:
            wc.leases.release_ticket(round_id, ticket)
        if produced:
            control.request(wc, "admit", round_id, round_id)
        elif wc.round_status(round_id) == "running":
            # nothing parseable came back (or the request failed): keep requests going, unless failing
            control.advance(wc, round_id, replace=True, full=True)


def after_admit(wc: WorkerContext, round_id: int, admitted: list[int]) -> None:
    """Ask for the classification of the admitted tasks in batches, then top generation up."""
    with control.best_effort("admit follow-up"):
        control.request_batches(wc, "classify", round_id, admitted)
        control.advance(wc, round_id, replace=True)


def classify_batch(wc: WorkerContext, round_id: int, ids: list[int], token: str) -> list[int]:
    """Classify the tasks of ``ids`` this message leases, then make their instances under
    instances leases taken before the classify leases are let go (so no tick re-sends them
    meanwhile). Returns the ids it classified now."""
    with leased(wc.leases, round_id, "classify", ids, token) as held:
        running = wc.round_status(round_id) == "running"
        answers = steps.classify(wc.step_context(round_id), held) if running else {}
        run_instances(wc, round_id, held if running else [], token)
    return sorted(answers)


def run_instances(wc: WorkerContext, round_id: int, ids: list[int], token: str) -> list[int]:
    """Make instances for the tasks of ``ids`` this message leases (renewed while it works).

    Returns the ids of the tasks that kept instances now.
    """
    if not ids:
        return []
    with leased(wc.leases, round_id, "instances", ids, token) as held:
        running = wc.round_status(round_id) == "running"
        kept = steps.make_instances(wc.step_context(round_id), held) if running else {}
    after_instances(wc, round_id, held, kept)
    return sorted(i for i, n in kept.items() if n)


def after_instances(wc: WorkerContext, round_id: int, ids: list[int], kept: dict[int, int]) -> None:
    """End the round if these were its last open tasks; replace tasks left empty."""
    if not ids:
        return
    with control.best_effort("instances follow-up"):
        if not all(kept.get(i, 0) for i in ids):
            control.advance(wc, round_id, replace=True, readmit=True, full=True)
            return
        with wc.sessions() as session:  # the common case needs one query: is the round done?
            target, live, still_open = session.execute(select(
                select(Round.target).where(Round.id == round_id).scalar_subquery(),
                _count(round_id, repo.LIVE_STATUSES), _count(round_id, OPEN_STATUSES),
            )).one()
        if live >= (target or 0) and still_open == 0:
            control.advance(wc, round_id, replace=False)


def _count(round_id: int, statuses: tuple[str, ...]) -> Any:
    return select(func.count()).where(Task.round_id == round_id, Task.status.in_(statuses)).scalar_subquery()
