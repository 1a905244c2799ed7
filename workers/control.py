"""Round control of the fleet: start, cancel, exact admission, and the tick that re-derives work.

A fleet round (``mode = "fleet"``) moves by messages: generate → admit → classify → instances
(→ tag, for a round started with tagging on: each task once it is complete), each task
asking for the next through :mod:`workers.leases` claims so that an item has at most
one message queued or running (a running one holds a renewed lease). Messages are only hints:
:func:`tick` (beat, every ``fleet_tick_s``; also called by ``selfinstruct generate`` while it
follows a round) re-reads the round from the database, ends it when it is done, and re-sends
whatever is pending and neither queued nor leased, so a lost message (a broker restart, a
killed worker) only delays the round by about a lease.

Exact admission: :func:`admit_round` runs :func:`generator.steps.admission.admit_pending` in one
PostgreSQL transaction that first takes the pool's advisory lock (``repository.lock_pool``) and
then refreshes the process's :class:`PoolIndex` with tasks committed since it last looked.
Every task insert happens under that lock, so admissions across all workers are serialized
and each judges candidates against the whole pool: the pool equals the one produced by
admitting the candidates sequentially in lock order, however many admit consumers run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime

import redis
from kombu.exceptions import OperationalError

from generator.db import fleet as fleet_db
from generator.db import repository as repo
from generator.db import tags as tags_db
from generator.db.models import Pool
from generator.db.statuses import RoundMode, RoundStatus, TaskStatus
from generator.errors import BrokerUnavailableError
from generator.rounds import policy
from generator.rounds.ending import finish
from generator.steering import SteeringParams
from generator.steps import chunked
from generator.steps.admission import admit_pending
from workers import stall
from workers.context import WorkerContext
from workers.leases import new_token
from workers.state import Observed, load_state

log = logging.getLogger(__name__)


@contextlib.contextmanager
def best_effort(what: str) -> Iterator[None]:
    """Swallow (and log) broker/Redis trouble in follow-up messages: the next tick re-sends them."""
    try:
        yield
    except (redis.RedisError, OperationalError, BrokerUnavailableError, OSError) as exc:
        log.warning("%s failed (the next tick recovers it): %s", what, exc)


def send(wc: WorkerContext, task: str, *args: int, token: str | None = None) -> None:
    """Send one message (ids only) to the task's queue; ``token`` becomes its Celery task id."""
    wc.app.send_task(f"selfinstruct.{task}", args=list(args), task_id=token)


def request(wc: WorkerContext, task: str, ident: int, *args: int) -> bool:
    """Send ``task(*args)`` unless a message for (task, ident) is already in flight (``ident`` = round)."""
    token = new_token()
    claimed = wc.leases.claim(ident, task, [ident], token)[0]
    if claimed:
        try:
            send(wc, task, *args, token=token)
        except BaseException:
            wc.leases.release(ident, task, [ident], token)  # the next tick may try again
            raise
    return claimed


def request_batches(wc: WorkerContext, task: str, round_id: int, task_ids: list[int]) -> int:
    """Claim (task, id) for each task and send the claimed ones as ``task(round_id, batch)`` messages
    of up to ``prompts_per_request`` tasks (each batch's claims owned by its message); returns how
    many messages were sent."""
    sent = 0
    for batch in chunked(task_ids, wc.settings.prompts_per_request):
        token = new_token()
        won = [i for i, ok in zip(batch, wc.leases.claim(round_id, task, batch, token), strict=True) if ok]
        if not won:
            continue
        try:
            wc.app.send_task(f"selfinstruct.{task}", args=[round_id, won], task_id=token)
        except BaseException:
            wc.leases.release(round_id, task, won, token)  # a tick re-sends
            raise
        sent += 1
    return sent


def start_round(wc: WorkerContext, pool_id: int, target: int, *, budget_tokens: int | None = None,
                deadline: datetime | None = None, steering: SteeringParams | None = None,
                tag: bool = False) -> int:
    """Open a fleet round in the pool and kick it off with a tick; returns the round id.

    ``steering`` (default: the plain loop) is stored on the round; its generate tasks read it.
    ``tag``: each task is tagged (InsTag) once complete, and the round is done only when they all are."""
    with wc.sessions.begin() as session:
        pool = session.get_one(Pool, pool_id)
        rnd = repo.open_round(session, pool, target, budget_tokens=budget_tokens, deadline=deadline,
                              mode=RoundMode.FLEET, steering=SteeringParams.round_json(steering), tag=tag)
        round_id = rnd.id
    send(wc, "tick", round_id)
    return round_id


def note_failure(wc: WorkerContext, round_id: int, task: str, error: BaseException | None) -> None:
    """A stage task of the round failed for good (after Celery's retries); the round policy decides."""
    count = wc.hints.count_failure(round_id)
    with wc.sessions() as session:
        seen = load_state(session, round_id, stage_failures=count, last_stage_failure=f"{task}: {error!r}")
    if seen is not None:
        settle(wc, round_id, seen)


def admit_round(wc: WorkerContext, round_id: int) -> list[int]:
    """Admit the round's pending candidates exactly (see the module docstring); returns new task ids."""
    pool_id = wc.pool_of(round_id)
    params = wc.params(pool_id)
    with wc.admitting:
        try:
            with wc.sessions.begin() as session:
                repo.lock_pool(session, pool_id)
                rnd = repo.get_round(session, round_id)
                if rnd.status != RoundStatus.RUNNING:
                    return []
                live = repo.live_count(session, round_id)
                return admit_pending(session, rnd, wc.index(pool_id), params, live).admitted
        except BaseException:
            wc.drop_index(pool_id)  # it may hold tasks whose transaction rolled back
            raise


def topup(wc: WorkerContext, round_id: int, seen: Observed | None = None) -> int:
    """Send generate messages until the round has as many in flight as the policy wants; returns how many."""
    if seen is None:
        with wc.sessions() as session:
            seen = load_state(session, round_id)
    if seen is None or not seen.running:
        return 0
    decision = policy.decide(seen.state)
    wanted = 0
    if isinstance(decision, policy.Generate):
        wanted = min(decision.requests, wc.settings.fleet_inflight)
    tickets = wc.leases.take_tickets(round_id, wanted)
    for number, ticket in enumerate(tickets):
        try:
            send(wc, "generate", round_id, ticket)
        except BaseException:
            for unsent in tickets[number:]:
                wc.leases.release_ticket(round_id, unsent)
            raise
    return len(tickets)


def settle(wc: WorkerContext, round_id: int, seen: Observed) -> bool:
    """End the round if the policy says so (failing, budget/deadline, target); True if it has ended.

    Each condition is stable once seen (tasks only leave the open statuses, admission stops at the
    target, tokens and time only grow), so a slightly stale state never ends a round too early.
    """
    if not seen.running:
        return True
    decision = policy.decide(seen.state)
    if isinstance(decision, policy.Failing):
        finish(wc.sessions, round_id, RoundStatus.FAILED, "error", decision.cause)
    elif isinstance(decision, policy.Limit | policy.Done):
        finish(wc.sessions, round_id, RoundStatus.COMPLETED, decision.reason)
    else:
        return False
    return True  # ended now, or by another process just before (finish() returned False)


def tick(wc: WorkerContext, round_id: int) -> str:
    """Re-derive everything the round needs from the database and send it; returns the round status."""
    with best_effort("tick heartbeat"):
        stall.note_tick(wc.leases.redis, round_id)
    with wc.sessions() as session:
        state = load_state(session, round_id, full=True)
        if state is None:
            return "missing"
        open_tasks = fleet_db.open_tasks(session, round_id)
        untagged = tags_db.round_untagged_ids(session, round_id) if wc.round_tags(round_id) else []
    if settle(wc, round_id, state):
        with wc.sessions() as session:
            return str(repo.get_round(session, round_id).status)
    if state.pending_candidates:
        request(wc, "admit", round_id, round_id)
    for stage, status in (("classify", TaskStatus.PENDING_CLASSIFICATION),
                          ("instances", TaskStatus.PENDING_INSTANCES)):
        # Only the tasks with no message in flight are claimed and sent.
        waiting = [task_id for task_id, task_status in open_tasks if task_status == status]
        request_batches(wc, stage, round_id, waiting)
    request_batches(wc, "tag", round_id, untagged)
    topup(wc, round_id, state)
    return RoundStatus.RUNNING


def tick_all(wc: WorkerContext) -> dict[int, str]:
    """Tick every running fleet round; returns their statuses after the tick."""
    with wc.sessions() as session:
        ids = fleet_db.running_fleet_rounds(session)
    return {round_id: tick(wc, round_id) for round_id in ids}


def advance(wc: WorkerContext, round_id: int, *, replace: bool, readmit: bool = False,
            full: bool = False) -> None:
    """End the round if it is done, out of budget/time (or, with ``full``, failing); else, with
    ``replace``, top generation up.

    ``readmit`` also asks for admission of pending candidates (admission stops at the target,
    and a task that ended without instances makes room again). Follow-ups of work that came back
    empty pass ``full``, so that refusals and lack of progress end the round without waiting for a tick.
    """
    with wc.sessions() as session:
        state = load_state(session, round_id, full=full)
    if state is None or settle(wc, round_id, state) or not replace:
        return
    if readmit and state.pending_candidates:
        request(wc, "admit", round_id, round_id)
    topup(wc, round_id, state)
