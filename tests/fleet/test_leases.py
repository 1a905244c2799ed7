"""A dead worker's work is redone within a lease, and a worker that was only slow does no harm.

Default timeouts throughout (lease 15 s, visibility timeout 3,600 s, task time limit 900 s,
tick every 10 s): the Redis broker would redeliver a killed worker's message only after an
hour, so what recovers it here is its lease expiring. The bounds are generous (correctness
and completion are the point); ``bench/fleet.py --faults`` prints the recovery times.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import assert_admission_exact, assert_no_duplicate_rows, assert_round_completed
from workers.faults import DEFAULTS, StageGatedResponder, interrupt, kill_each_stage, start_fleet
from workers.harness import fleet, rabbitmq_missing

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(400)]
BROKERS = ["redis", pytest.param("amqp", marks=pytest.mark.skipif(
    rabbitmq_missing() is not None, reason=str(rabbitmq_missing())))]


@pytest.mark.parametrize("broker", BROKERS)
def test_work_of_a_worker_killed_at_each_stage_is_redone_elsewhere_within_the_default_timeouts(
        tmp_path: Path, broker: str) -> None:
    responder = StageGatedResponder(SelfInstructResponder(seed=81, near_duplicate_rate=0.1))
    with ScriptedLLMServer(responder) as server, fleet(tmp_path, server.base_url, broker, **DEFAULTS) as f:
        rounds = kill_each_stage(f, responder, target=8)
        with f.wc.sessions() as session:
            for round_id, _ in rounds.values():
                assert_round_completed(session, round_id, 8)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
    times = {stage: seconds for stage, (_, seconds) in rounds.items()}
    assert set(times) == {"generate", "classify", "instances"} and max(times.values()) < 90, times


def test_a_stopped_worker_that_resumes_after_its_work_was_redone_writes_nothing_twice(tmp_path: Path) -> None:
    responder = StageGatedResponder(SelfInstructResponder(seed=82))
    with ScriptedLLMServer(responder) as server, fleet(tmp_path, server.base_url, **DEFAULTS) as f:
        start_fleet(f)
        responder.gates["classify"].clear()
        round_id = f.start_round(12)
        deadline = time.monotonic() + 240
        holder, redone_s = interrupt(f, responder, round_id, "classify", sig=signal.SIGSTOP)
        os.killpg(f.procs[holder.worker].pid, signal.SIGCONT)  # back, mid-request, after the re-send
        finished = f"selfinstruct.classify[{holder.task_id}] succeeded"
        while finished not in f.log(holder.worker):
            assert time.monotonic() < deadline, f.logs_tail()
            time.sleep(0.2)
        f.wait_round(round_id, timeout_s=120)
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 12)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
    assert "taken over meanwhile" in f.log(holder.worker)  # its heartbeat found the lease re-leased
    assert redone_s < 90
