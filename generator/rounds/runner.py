"""The in-process round runner: the embedded default's engine, no broker needed.

LLM-bound steps run on a thread pool; admission runs on the calling thread only, so it is
sequential and exact. Each turn of the loop admits pending candidates, asks the round policy
(:func:`generator.rounds.policy.decide`, shared with the fleet) what to do, and starts that work.
Everything is committed step by step, so an interrupted or failed run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from threading import Event

from sqlalchemy.orm import Session

from generator import steps
from generator.db import repository as repo
from generator.db import requests, tags
from generator.db.models import Round
from generator.db.stats import RoundCounts, round_counts
from generator.db.statuses import RoundStatus, TaskStatus
from generator.errors import LLMTransientError
from generator.rounds import policy
from generator.rounds.ending import finish
from generator.rounds.ordering import order_by_prompt_prefix, request_slots, same_stage_first
from generator.rounds.state import observe
from generator.steering.params import SteeringParams
from generator.steps.admission import PoolIndex, admit_pending
from generator.steps.coverage import tag_round_tasks

ProgressSink = Callable[[RoundCounts], None]

# ("generate", (round_id,)), ("classify" | "instances", a batch of task ids), or, in a steered round,
# ("tag", (pool_id, round_id, *task ids)).
Job = tuple[str, tuple[int, ...]]
STAGE_JOBS = (("instances", TaskStatus.PENDING_INSTANCES), ("classify", TaskStatus.PENDING_CLASSIFICATION))


class RoundRunner:
    """Drives one in-process round until the policy ends it (target, budget, deadline, failure) or a stop."""

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
        self._inflight: dict[Future[object], Job] = {}
        self._stage_failures = 0
        self._last_failure = ""
        self._last_progress = 0.0
        self._last_kind = ""  # the kind of the job submitted last (see ordering.same_stage_first)
        self._resumed_after = 0  # requests up to this id were sent before this run (see observe)
        self._slots = request_slots(ctx.settings, ctx.settings.embedded_prefix_ordering)

    def run(self, round_id: int) -> RoundCounts:
        """Run (or resume) the round until it ends or a stop is requested; return its counts."""
        with self.ctx.sessions() as session:
            pool_id = repo.get_round(session, round_id).pool_id
            index = PoolIndex(pool_id, self.ctx.params.rouge_threshold, self.ctx.index_config)
            self._resumed_after = requests.last_request_id(session, round_id)
        with ThreadPoolExecutor(max_workers=self._slots) as pool:
            while self._turn(pool, round_id, index):
                self._collect(self.poll_s)
                self._report(round_id)
        counts = self.counts(round_id)
        if self.progress:
            self.progress(counts)
        return counts

    def _turn(self, pool: ThreadPoolExecutor, round_id: int, index: PoolIndex) -> bool:
        """Admit, decide and start work; False once the round has ended or the stop is complete."""
        with self.ctx.sessions.begin() as session:
            rnd = repo.get_round(session, round_id)
            if rnd.status != RoundStatus.RUNNING:
                return False
            admit_pending(session, rnd, index, self.ctx.params, repo.live_count(session, round_id))
            seen = observe(session, rnd, datetime.now(UTC), stop_requested=self.stop.is_set(),
                           stage_failures=self._stage_failures, last_stage_failure=self._last_failure,
                           after_request_id=self._resumed_after)
            decision = policy.decide(seen.state)
            jobs = self._stage_jobs(session, round_id) if _starts_work(decision) else []
            if isinstance(decision, policy.Generate | policy.Wait) and self._tags_in_round(rnd):
                jobs += self._tag_jobs(session, rnd.pool_id, round_id)
        if isinstance(decision, policy.Failing):
            finish(self.ctx.sessions, round_id, RoundStatus.FAILED, "error", decision.cause)
            return False
        if isinstance(decision, policy.Done | policy.Limit | policy.Interrupt) and not self._inflight:
            if not isinstance(decision, policy.Interrupt):
                finish(self.ctx.sessions, round_id, RoundStatus.COMPLETED, decision.reason)
            return False
        generate = decision.requests if isinstance(decision, policy.Generate) else 0
        self._start(pool, jobs, generate, round_id)
        return True

    def _stage_jobs(self, session: Session, round_id: int) -> list[Job]:
        """Batches of open tasks with no job in flight, instances first (they finish tasks), grouped by
        prompt prefix (generator/rounds/ordering.py)."""
        busy = {(kind, i) for kind, ids in self._inflight.values() if kind != "generate" for i in ids}
        todo: list[Job] = []
        for kind, status in STAGE_JOBS:
            open_ = [t for t in repo.tasks_in_status(session, round_id, status) if (kind, t.id) not in busy]
            free = order_by_prompt_prefix(open_)  # one instance template's prompts back to back
            todo += [(kind, tuple(batch)) for batch in steps.chunked(free, steps.batch_size(self.ctx))]
        return todo

    def _tags_in_round(self, rnd: Round) -> bool:
        """A round started with ``--tag``, or a steered round whose coverage reads stored tags, tags its own
        tasks as they complete."""
        steered = self.ctx.coverage.reads_stored_tags and SteeringParams.from_json(rnd.steering).steered
        return rnd.tag or steered

    def _tag_jobs(self, session: Session, pool_id: int, round_id: int) -> list[Job]:
        """Batches of the round's complete, untagged tasks with no tag job in flight (InsTag tagging)."""
        busy = {i for kind, ids in self._inflight.values() if kind == "tag" for i in ids[2:]}
        free = [t.task_id for t in tags.untagged_tasks(session, pool_id, round_id) if t.task_id not in busy]
        batches = steps.chunked(free, steps.batch_size(self.ctx))
        return [("tag", (pool_id, round_id, *batch)) for batch in batches]

    def _start(self, pool: ThreadPoolExecutor, jobs: list[Job], generate: int, round_id: int) -> None:
        """Submit stage jobs, then generate jobs up to ``generate`` in flight, within the concurrency."""
        slots = self._slots
        if slots == 1:  # one request at a time: stay on the stage whose prefix the server holds
            jobs = same_stage_first(jobs, self._last_kind)
        for job in jobs:
            if len(self._inflight) >= slots:
                return
            self._inflight[pool.submit(self._do, job)] = job
            self._last_kind = job[0]
        generating = sum(1 for kind, _ in self._inflight.values() if kind == "generate")
        while generating < generate and len(self._inflight) < slots:
            job = ("generate", (round_id,))
            self._inflight[pool.submit(self._do, job)] = job
            generating += 1

    def _collect(self, timeout_s: float) -> None:
        """Wait for a job to finish (or the poll interval) and count how the finished ones went.

        An LLM failure is already a stored request (the policy reads it from there); any other
        error (database, broker, a bug) is a stage failure, counted in a row for the policy.
        """
        done, _ = wait(list(self._inflight), timeout=timeout_s, return_when=FIRST_COMPLETED)
        for fut in done:
            kind, _ = self._inflight.pop(fut)
            try:
                fut.result()
            except LLMTransientError:
                continue
            except Exception as exc:
                self._stage_failures += 1
                self._last_failure = f"{kind}: {type(exc).__name__}: {exc}"
                continue
            self._stage_failures = 0

    def _report(self, round_id: int) -> None:
        if self.progress and time.monotonic() - self._last_progress >= self.progress_interval_s:
            self._last_progress = time.monotonic()
            self.progress(self.counts(round_id))

    def _do(self, job: Job) -> object:
        kind, ids = job
        if kind == "generate":
            return steps.generate(self.ctx, ids[0])
        if kind == "classify":
            return steps.classify(self.ctx, ids)
        if kind == "tag":
            return tag_round_tasks(self.ctx, ids[0], ids[1], ids[2:])
        return steps.make_instances(self.ctx, ids)

    def counts(self, round_id: int) -> RoundCounts:
        """The round's counts as stored right now."""
        with self.ctx.sessions() as session:
            return round_counts(session, round_id)


def _starts_work(decision: policy.Decision) -> bool:
    return isinstance(decision, policy.Generate | policy.Wait | policy.Done)
