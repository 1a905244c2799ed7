"""The tag step (InsTag), run by the batch-step driver: tag complete tasks, store every request, tag
and failure in one transaction per batch.

Idempotent by the one-tagging-per-task key: a task that already has a tagging is not opened, and
one a concurrent delivery tags between our read and our write is skipped by the insert
(``ON CONFLICT DO NOTHING``), so nothing is tagged twice. An answer that did not parse is asked
for once more and then stored as a failed tagging with the raw text, never as zero tags. An
endpoint failure that may pass leaves its tasks untagged and raises LLMTransientError once
everything else is stored; one refused for good is stored as a failure (``llm_error``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import groupby

from sqlalchemy.orm import Session

from generator.db import tags
from generator.db.taggings import TaggingRow, insert_taggings
from generator.db.tags import UntaggedTask
from generator.errors import LLMTransientError
from generator.instag.prompts import render_query
from generator.instag.records import ParsedTags, TagFailure, TagOutcome
from generator.llm.tagger import TAG_RETRIES, LLMTagger, read_tags, tag_outcome
from generator.records import Stage
from generator.selfinstruct.params import Decoding, GenerationParams
from generator.steps.context import StepContext, batch_size, chunked
from generator.steps.driver import Reply, Settled, drive, run_batch_step


def tagger_for(ctx: StepContext) -> LLMTagger:
    """The LLM tagger over the step's client, batched like every stage."""
    return LLMTagger(ctx.client, batch_size=batch_size(ctx))


class Tagging:
    """:class:`~generator.steps.driver.BatchStep` for InsTag tagging (see the module docstring): the
    tagger's prompt (chat or few-shot completions) and decoding; outcomes are written to
    ``task_taggings``/``task_tags``, the task's status is left alone."""

    stage = Stage.TAG

    def __init__(self, tagger: LLMTagger) -> None:
        self.tagger = tagger

    def open(self, ctx: StepContext, task_ids: Sequence[int]) -> list[UntaggedTask]:
        with ctx.sessions() as session:
            found = {t.task_id: t for t in tags.untagged_among(session, task_ids)}
        if len({(t.pool_id, t.round_id) for t in found.values()}) > 1:
            raise ValueError(f"tasks {sorted(found)} belong to several rounds; a batch is one round's")
        return [found[i] for i in dict.fromkeys(task_ids) if i in found]

    def decoding(self, params: GenerationParams) -> Decoding:
        return self.tagger.request_decoding()

    def retries(self, params: GenerationParams) -> int:
        return TAG_RETRIES

    def prompt(self, task: UntaggedTask) -> str:
        return self.tagger.render(render_query(task.instruction, task.first_input))

    def read(self, task: UntaggedTask, text: str, finish_reason: str | None) -> object | None:
        return read_tags(task, text, finish_reason)

    def outcome(self, task: UntaggedTask, replies: Sequence[Reply], params: GenerationParams) -> TagOutcome:
        return tag_outcome(replies)

    def write(self, session: Session, settled: Sequence[Settled[UntaggedTask, TagOutcome]]) -> set[int]:
        return insert_taggings(session, [self._row(s) for s in settled])

    def _row(self, s: Settled[UntaggedTask, TagOutcome]) -> TaggingRow:
        row = TaggingRow(s.task.pool_id, s.task.id, s.request_id, self.tagger.model, s.attempts)
        if isinstance(s.outcome, ParsedTags):
            return replace(row, tags=tuple((t.tag, t.explanation) for t in s.outcome.tags))
        return replace(row, failure_reason=str(s.outcome.reason), failure_detail=s.outcome.detail,
                       raw=s.outcome.raw)


def tag_batch(ctx: StepContext, task_ids: Sequence[int]) -> dict[int, TagOutcome]:
    """Tag the complete, untagged tasks among ``task_ids`` (one round's); the outcomes stored now.

    LLMTransientError once the others are stored if a request failed transiently (the fleet's
    ``tag`` task retries then)."""
    return run_batch_step(ctx, Tagging(tagger_for(ctx)), task_ids)


def tag_tasks(ctx: StepContext, tasks: Sequence[UntaggedTask], progress: Callable[[int], None] | None = None,
              chunk: int = 50) -> dict[str, int]:
    """Tag ``tasks`` of one pool, any rounds (one driver run, so one transaction, per chunk of a round's
    tasks: an interrupted run keeps what it did). Returns counts: tagged, failed, transient (left
    untagged); raises LLMTransientError at the end if any was left untagged."""
    step = Tagging(tagger_for(ctx))
    totals = {"tagged": 0, "failed": 0, "transient": 0}
    for _, of_round in groupby(sorted(tasks, key=lambda t: (t.round_id or 0, t.task_id)),
                               key=lambda t: t.round_id):
        for part in chunked(list(of_round), chunk):
            run = drive(ctx, step, [t.task_id for t in part])
            failed = sum(isinstance(o, TagFailure) for o in run.outcomes.values())
            totals["tagged"] += len(run.outcomes) - failed
            totals["failed"] += failed
            totals["transient"] += run.left_waiting
            if progress is not None:
                progress(len(part))
    if totals["transient"]:
        raise LLMTransientError(f"{totals['transient']} tasks left untagged: the endpoint failed; run again")
    return totals


__all__ = ["Tagging", "tag_batch", "tag_tasks", "tagger_for"]
