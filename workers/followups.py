"""What each stage task does after its step: free its claim and ask for the next piece of work.

Classification and instances run in one message per task (:func:`after_classify` hands the
task's claim over and the same process makes the instances): one message, one context lookup
and one trip through the worker's main process per task instead of two. The ``instances``
message remains for ticks re-sending a classified task whose instances are missing.
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


def after_generate(wc: WorkerContext, round_id: int, ticket: int | None, produced: int) -> None:
    """A generate message has run: free its ticket, ask for admission of what it produced (or replace it)."""
    with control.best_effort("generate follow-up"):
        if ticket is not None:
            wc.hints.release_ticket(round_id, ticket)
        if produced:
            control.request(wc, "admit", round_id, round_id)
        elif wc.round_status(round_id) == "running":
            control.advance(wc, round_id, replace=True)  # nothing parseable came back: keep requests going


def after_admit(wc: WorkerContext, round_id: int, admitted: list[int]) -> None:
    """Ask for the classification of each admitted task, then top generation up."""
    with control.best_effort("admit follow-up"):
        for task_id in admitted:
            control.request(wc, "classify", task_id, round_id, task_id)
        control.advance(wc, round_id, replace=True)


def after_classify(wc: WorkerContext, round_id: int, task_id: int) -> bool:
    """Free the claim and take the task's instances claim; True if the caller now makes them itself.

    Making instances in the classify message saves a message, a context lookup and a process
    hop per task; the claim keeps a tick from sending an instances message meanwhile.
    """
    with control.best_effort("classify follow-up"):
        if wc.round_status(round_id) != "running":
            wc.hints.release("classify", task_id)
            return False
        return wc.hints.hand_over("classify", "instances", task_id)
    return False


def run_instances(wc: WorkerContext, round_id: int, task_id: int) -> int:
    """Make the task's instances while holding its instances claim, then release it (also on failure)."""
    try:
        running = wc.round_status(round_id) == "running"
        kept = steps.make_instances(wc.step_context(round_id), task_id) if running else 0
    except BaseException:
        with control.best_effort("instances claim release"):
            wc.hints.release("instances", task_id)  # a retry of this message claims it again
        raise
    after_instances(wc, round_id, task_id, kept)
    return kept


def after_instances(wc: WorkerContext, round_id: int, task_id: int, kept: int) -> None:
    """Free the claim; end the round if this was its last open task; replace a task left without instances."""
    with control.best_effort("instances follow-up"):
        wc.hints.release("instances", task_id)
        if not kept:
            control.advance(wc, round_id, replace=True, readmit=True)
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
