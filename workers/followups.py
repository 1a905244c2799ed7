"""What each stage task does around its step: hold its leases, then ask for the next piece of work.

Classification and instances run in one message per batch of tasks (:func:`classify_batch`
leases the batch for instances before letting its classify leases go, and the same process
makes the instances): one message, one context lookup and one trip through the worker's main
process per batch.
A round with tagging on then sends the tasks that came out complete to the ``tag`` queue
(:func:`run_tagging`), batched like the others.
The ``instances`` message remains for ticks re-sending classified tasks whose instances are
missing. Batches hold up to ``Settings.prompts_per_request`` tasks: the step sends them in one
completions request.
"""

from __future__ import annotations

from typing import Any

from generator import steps
from generator.db import fleet as fleet_db
from generator.db.statuses import RoundStatus
from workers import control
from workers.context import WorkerContext
from workers.heartbeat import leased


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
        elif wc.round_status(round_id) == RoundStatus.RUNNING:
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
        running = wc.round_status(round_id) == RoundStatus.RUNNING
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
        running = wc.round_status(round_id) == RoundStatus.RUNNING
        kept = steps.make_instances(wc.step_context(round_id), held) if running else {}
    after_instances(wc, round_id, held, kept)
    return sorted(i for i, n in kept.items() if n)


def after_instances(wc: WorkerContext, round_id: int, ids: list[int], kept: dict[int, int]) -> None:
    """Ask for the tagging of the tasks that kept instances (with tagging on); end the round if these
    were its last open tasks; replace tasks left empty."""
    if not ids:
        return
    with control.best_effort("instances follow-up"):
        complete = [i for i in ids if kept.get(i, 0)]
        if complete and wc.round_tags(round_id):
            control.request_batches(wc, "tag", round_id, complete)
        if len(complete) < len(ids):
            control.advance(wc, round_id, replace=True, readmit=True, full=True)
            return
        may_end(wc, round_id)


def run_tagging(wc: WorkerContext, round_id: int, ids: list[int], token: str) -> list[int]:
    """Tag the tasks of ``ids`` this message leases (renewed while it works); returns the ids tagged now
    (a failure stored for good counts: the task is settled)."""
    with leased(wc.leases, round_id, "tag", ids, token) as held:
        running = wc.round_status(round_id) == RoundStatus.RUNNING
        outcomes = steps.tag_batch(wc.step_context(round_id), held) if running and held else {}
    if outcomes:
        with control.best_effort("tag follow-up"):
            may_end(wc, round_id)
    return sorted(outcomes)


def may_end(wc: WorkerContext, round_id: int) -> None:
    """End the round if it is done (the common case needs one query: may it be?)."""
    with wc.sessions() as session:
        progress = fleet_db.round_progress(session, round_id)
    if progress.may_be_done:
        control.advance(wc, round_id, replace=False)
