"""A message delivered twice (or ten times) writes nothing twice: the steps are idempotent."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from generator.db.models import Candidate, Instance, LLMRequest, Rejection, Task
from generator.db.statuses import TaskStatus
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import assert_admission_exact, assert_no_duplicate_rows, assert_round_completed
from workers.app import QUEUES
from workers.harness import Fleet, fleet

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]
TABLES = (Candidate, Instance, LLMRequest, Rejection, Task)


def _redeliver(f: Fleet, round_id: int, copies: int = 2) -> None:
    """Send ``copies`` extra messages for everything the round has (as a broker redelivery would)."""
    with f.wc.sessions() as session:
        tasks = session.execute(select(Task.id, Task.status).where(Task.round_id == round_id)).all()
    classified = (TaskStatus.PENDING_CLASSIFICATION, TaskStatus.COMPLETE, TaskStatus.NO_INSTANCES)
    classify = [i for i, status in tasks if status in classified]
    every = [i for i, _ in tasks]
    for _ in range(copies):
        f.wc.app.send_task("selfinstruct.admit", args=[round_id])
        # One message per task, plus overlapping batches of them (a batch delivered twice, and
        # two batches sharing tasks).
        for task_id in classify:
            f.wc.app.send_task("selfinstruct.classify", args=[round_id, [task_id]])
        for batch in (classify[:3], classify[1:4], classify):
            if batch:
                f.wc.app.send_task("selfinstruct.classify", args=[round_id, batch])
        for task_id in every:
            f.wc.app.send_task("selfinstruct.instances", args=[round_id, [task_id]])
        if every:
            f.wc.app.send_task("selfinstruct.instances", args=[round_id, every[:4]])


def _drain(f: Fleet, timeout_s: float = 180) -> None:
    # The racer queues thousands of duplicates during the round; on a loaded 2-core CI machine working
    # them off took over 30 s. How fast is not what this test checks (bench/fleet.py measures speed).
    deadline = time.monotonic() + timeout_s
    while any(f.wc.hints.redis.llen(q) for q in QUEUES):
        assert time.monotonic() < deadline, f.logs_tail()
        time.sleep(0.1)
    time.sleep(1.5)  # the last messages taken are still running


def _row_counts(f: Fleet) -> dict[str, int]:
    with f.wc.sessions() as session:
        return {t.__tablename__: int(session.scalar(select(func.count()).select_from(t)) or 0)
                for t in TABLES}


def test_messages_delivered_twice_write_no_duplicate_rows(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=51, garbage_rate=0.1, near_duplicate_rate=0.2)
    with ScriptedLLMServer(responder, latency_s=0.03) as server, \
            fleet(tmp_path, server.base_url, llm_prompts_per_request=4) as f:
        for name in ("w1", "w2", "w3"):
            f.worker(name)
        f.wait_ready("w1", "w2", "w3")
        round_id = f.start_round(20)
        stop = threading.Event()

        def duplicate_everything() -> None:
            while not stop.wait(0.1):
                # Duplicates arrive all round long, but the backlog stays bounded: an unbounded flood
                # buried the round's last genuine message on a loaded CI machine (19/20 after 120 s).
                if sum(f.wc.hints.redis.llen(q) for q in QUEUES) < 300:
                    _redeliver(f, round_id)

        racer = threading.Thread(target=duplicate_everything, daemon=True)
        racer.start()
        try:
            f.wait_round(round_id, timeout_s=120)
        finally:
            stop.set()
            racer.join(timeout=10)
        _drain(f)
        before, received = _row_counts(f), server.requests_total
        # Now every message of the finished round once more, generate included: nothing may change.
        _redeliver(f, round_id, copies=3)
        for ticket in range(3):
            f.wc.app.send_task("selfinstruct.generate", args=[round_id, ticket])
        _drain(f)
        assert _row_counts(f) == before
        assert server.requests_total == received
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 20)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
