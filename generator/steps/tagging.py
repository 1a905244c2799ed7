"""The tag step: tag a batch of complete tasks (InsTag), store every request, tag and failure at once.

Idempotent by the one-tagging-per-task key: a task that already has a tagging is skipped; if a
concurrent run stores it between our read and our write, the unique key fails our transaction and
nothing is written twice.
A parse failure is retried once (by the tagger) and then stored as a failed tagging with the raw
text, never as zero tags. An endpoint failure that may pass leaves its tasks untagged and raises
LLMTransientError once everything else is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import select

from generator.db import rows
from generator.db.models import TaskTag, TaskTagging
from generator.db.tags import FAILED, TAGGED, UntaggedTask
from generator.errors import LLMTransientError
from generator.instag.prompts import render_query
from generator.instag.records import ParsedTags
from generator.llm.tagger import LLMTagger, Tagger, TaggingRun
from generator.steps.context import StepContext, batch_size, request_row


def tagger_for(ctx: StepContext) -> LLMTagger:
    """The LLM tagger over the step's client, batched like every stage."""
    return LLMTagger(ctx.client, batch_size=batch_size(ctx))


def tag_tasks(ctx: StepContext, pool_id: int, tasks: Sequence[UntaggedTask], tagger: Tagger | None = None,
              progress: Callable[[int], None] | None = None, chunk: int = 50) -> dict[str, int]:
    """Tag ``tasks`` (one transaction per chunk of tasks, so an interrupted run keeps what it did).

    Returns counts: tagged, failed, transient (left untagged)."""
    tagger = tagger or tagger_for(ctx)
    totals = {"tagged": 0, "failed": 0, "transient": 0}
    for start in range(0, len(tasks), chunk):
        part = list(tasks[start:start + chunk])
        run = tagger.tag([render_query(t.instruction, t.first_input) for t in part])
        for key, value in _store(ctx, pool_id, part, run, tagger.model).items():
            totals[key] += value
        if progress is not None:
            progress(len(part))
    if totals["transient"]:
        raise LLMTransientError(f"{totals['transient']} tasks left untagged: the endpoint failed; run again")
    return totals


def _store(ctx: StepContext, pool_id: int, tasks: list[UntaggedTask], run: TaggingRun,
           model: str) -> dict[str, int]:
    counts = {"tagged": 0, "failed": 0, "transient": 0}
    with ctx.sessions.begin() as session:
        request_ids = [
            rows.insert_request(session, request_row(ctx, pool_id, _round_of(tasks, indices), call,
                                                     [tasks[i].task_id for i in indices]))
            for call, indices in run.calls
        ]
        taken = set(session.scalars(select(TaskTagging.task_id).where(
            TaskTagging.task_id.in_([t.task_id for t in tasks]))))
        for task, result in zip(tasks, run.results, strict=True):
            if result.transient:
                counts["transient"] += 1
                continue
            if task.task_id in taken:
                continue
            request_id = request_ids[result.call_index]
            outcome = result.outcome
            tagging = TaskTagging(pool_id=pool_id, task_id=task.task_id, request_id=request_id,
                                  tagger_model=model, attempts=result.attempts)
            if isinstance(outcome, ParsedTags):
                tagging.status = TAGGED
                session.add_all(
                    TaskTag(pool_id=pool_id, task_id=task.task_id, request_id=request_id, tagger_model=model,
                            position=i, tag=tag.tag, explanation=tag.explanation)
                    for i, tag in enumerate(outcome.tags)
                )
                counts["tagged"] += 1
            else:
                tagging.status = FAILED
                tagging.failure_reason = str(outcome.reason)
                tagging.failure_detail = outcome.detail[:2000]
                tagging.raw = outcome.raw
                counts["failed"] += 1
            session.add(tagging)
    return counts


def _round_of(tasks: list[UntaggedTask], indices: Sequence[int]) -> int | None:
    rounds = {tasks[i].round_id for i in indices}
    return rounds.pop() if len(rounds) == 1 else None


__all__ = ["tag_tasks", "tagger_for"]
