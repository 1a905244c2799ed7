"""What each stage task does after its step: free its claims and ask for the next piece of work.

Classification and instances run in one message per batch of tasks (:func:`after_classify`
hands the batch's claims over and the same process makes the instances): one message, one
context lookup and one trip through the worker's main process per batch.
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
from workers.state import OPEN_STATUSES


def task_ids(value: Any) -> list[int]:
    """The task ids a message carries: a list (or, from an older sender, one id)."""
    return [int(value)] if isinstance(value, int) else [int(i) for i in value]


def after_generate(wc: WorkerContext, round_id: int, ticket: int | None, produced: int) -> None:
    """A generate message has run: free its ticket, ask for admission of what it produced (or replace it)."""
    with control.best_effort("generate follow-up"):
        if ticket is not None:
            wc.hints.release_ticket(round_id, ticket)
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


def after_classify(wc: WorkerContext, round_id: int, ids: list[int]) -> list[int]:
    """Free the batch's classify claims and take its instances claims; returns the ids now held.

    The caller makes those tasks' instances itself (saving a message, a context lookup and a
    process hop); the claims keep a tick from sending an instances message meanwhile.
    """
    with control.best_effort("classify follow-up"):
        if wc.round_status(round_id) != "running":
            wc.hints.release_many("classify", ids)
            return []
        return wc.hints.hand_over_many("classify", "instances", ids)
    return []


def run_instances(wc: WorkerContext, round_id: int, ids: list[int]) -> list[int]:
    """Make instances for ``ids`` while holding their claims, then release them (also on failure).

    Returns the ids of the tasks that kept instances now.
    """
    if not ids:
        return []
    try:
        running = wc.round_status(round_id) == "running"
        kept = steps.make_instances(wc.step_context(round_id), ids) if running else {}
    except BaseException:
        with control.best_effort("instances claim release"):
            wc.hints.release_many("instances", ids)  # a retry of this message claims them again
        raise
    after_instances(wc, round_id, ids, kept)
    return sorted(i for i, n in kept.items() if n)


def after_instances(wc: WorkerContext, round_id: int, ids: list[int], kept: dict[int, int]) -> None:
    """Free the claims; end the round if these were its last open tasks; replace tasks left empty."""
    with control.best_effort("instances follow-up"):
        wc.hints.release_many("instances", ids)
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
