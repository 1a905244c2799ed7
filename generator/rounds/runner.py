"""The in-process round runner: the embedded default's engine, no broker needed.

LLM-bound steps run on a thread pool; admission runs on the calling thread only, so it is
sequential and exact. Everything is committed step by step, so an interrupted run resumes
where it stopped: ``run_round`` picks up the pool's unfinished in-process round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from threading import Event

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generator import steps
from generator.db import repository as repo
from generator.db.models import LLMRequest, Round, Task
from generator.db.stats import RoundCounts, round_counts
from generator.errors import SelfInstructError, TransientError
from generator.rounds.ordering import order_by_prompt_prefix, request_slots
from generator.steps.admission import PoolIndex, admit_pending, retire_surplus

ProgressSink = Callable[[RoundCounts], None]
MAX_CONSECUTIVE_FAILURES = 8


def _live(session: Session, round_id: int) -> int:
    live = session.scalar(
        select(func.count()).where(Task.round_id == round_id, Task.status.in_(repo.LIVE_STATUSES))
    )
    return int(live or 0)


def round_limit_reached(rnd: Round, tokens_used: int, now: datetime) -> str | None:
    """Why the round must stop before its target (``budget`` or ``deadline``), or None."""
    if rnd.budget_tokens is not None and tokens_used >= rnd.budget_tokens:
        return "budget"
    if rnd.deadline is not None:
        deadline = rnd.deadline if rnd.deadline.tzinfo else rnd.deadline.replace(tzinfo=UTC)
        if now >= deadline:
            return "deadline"
    return None


def tokens_used(session: Session, round_id: int) -> int:
    """Prompt + completion tokens spent by the round so far."""
    used = session.scalar(
        select(func.sum(LLMRequest.prompt_tokens + LLMRequest.completion_tokens)).where(
            LLMRequest.round_id == round_id
        )
    )
    return int(used or 0)


# ("generate", (round_id,)), or ("classify" | "instances", a batch of task ids).
Job = tuple[str, tuple[int, ...]]


class RoundRunner:
    """Drives one in-process round to its target, budget or deadline."""

    def __init__(
        self,
        ctx: steps.StepContext,
        progress: ProgressSink | None = None,
        stop: Event | None = None,
        poll_s: float = 0.2,
        progress_interval_s: float = 0.25,
    ) -> None:
        self.ctx = ctx
        self.progress = progress
        self.stop = stop or Event()
        self.poll_s = poll_s
        self.progress_interval_s = progress_interval_s

    def run(self, round_id: int) -> RoundCounts:
        """Run (or resume) the round until it ends; return its final counts."""
        with self.ctx.sessions() as session:
            rnd = repo.get_round(session, round_id)
            index = PoolIndex(rnd.pool_id, self.ctx.params.rouge_threshold)
        inflight: dict[Future[object], Job] = {}
        failures = 0
        last_progress = 0.0
        slots = request_slots(self.ctx.settings, self.ctx.settings.embedded_prefix_ordering)
        with ThreadPoolExecutor(max_workers=slots) as pool:
            while True:
                with self.ctx.sessions.begin() as session:
                    rnd = repo.get_round(session, round_id)
                    if rnd.status != "running":
                        break
                    live = _live(session, round_id)
                    admit_pending(session, rnd, index, self.ctx.params, live)
                    live = _live(session, round_id)
                    limit = round_limit_reached(rnd, tokens_used(session, round_id), datetime.now(UTC))
                    busy = {(kind, i) for kind, ids in inflight.values() if kind != "generate" for i in ids}
                    todo: list[Job] = []
                    for kind, status in (("instances", repo.PENDING_INSTANCES),
                                         ("classify", repo.PENDING_CLASSIFICATION)):
                        free = order_by_prompt_prefix(
                            [t for t in repo.tasks_in_status(session, round_id, status)
                             if (kind, t.id) not in busy])
                        batches = steps.chunked(free, steps.batch_size(self.ctx))
                        todo += [(kind, tuple(batch)) for batch in batches]
                    open_tasks = len(todo) + len(busy)
                    if limit is not None or self.stop.is_set():
                        if not inflight:
                            reason = "interrupted" if self.stop.is_set() else limit or "stopped"
                            if reason != "interrupted":
                                repo.finish_round(session, rnd, "completed", reason)
                                retire_surplus(session, round_id)
                            break
                        todo = []
                    elif live >= rnd.target and open_tasks == 0 and not inflight:
                        repo.finish_round(session, rnd, "completed", "target")
                        retire_surplus(session, round_id)
                        break
                    generating = live < rnd.target and limit is None and not self.stop.is_set()
                for job in todo:
                    if len(inflight) >= slots:
                        break
                    inflight[pool.submit(self._do, job)] = job
                while generating and len(inflight) < slots:
                    inflight[pool.submit(self._do, ("generate", (round_id,)))] = ("generate", (round_id,))
                done, _ = wait(list(inflight), timeout=self.poll_s, return_when=FIRST_COMPLETED)
                for fut in done:
                    inflight.pop(fut)
                    try:
                        fut.result()
                        failures = 0
                    except TransientError:
                        failures += 1
                        if failures >= MAX_CONSECUTIVE_FAILURES:
                            self._fail(round_id, f"{failures} consecutive transient LLM failures")
                            self.stop.set()
                    except SelfInstructError as exc:
                        self._fail(round_id, str(exc))
                        self.stop.set()
                if self.progress and time.monotonic() - last_progress >= self.progress_interval_s:
                    last_progress = time.monotonic()
                    self.progress(self.counts(round_id))
        counts = self.counts(round_id)
        if self.progress:
            self.progress(counts)
        return counts

    def _do(self, job: Job) -> object:
        kind, ids = job
        if kind == "generate":
            return steps.generate(self.ctx, ids[0])
        if kind == "classify":
            return steps.classify(self.ctx, ids)
        return steps.make_instances(self.ctx, ids)

    def _fail(self, round_id: int, error: str) -> None:
        with self.ctx.sessions.begin() as session:
            repo.finish_round(session, repo.get_round(session, round_id), "failed", "error", error)

    def counts(self, round_id: int) -> RoundCounts:
        """The round's counts as stored right now."""
        with self.ctx.sessions() as session:
            return round_counts(session, round_id)
