"""Fault tolerance against real processes: a worker killed mid-request, endpoint faults, a Redis restart.

Request accounting: the scripted endpoint counts every HTTP attempt it answered; each
``llm_requests`` row records how many attempts its call made. The two agree exactly unless a
worker process died between sending a request and committing its row: then the attempts of the
calls it had in flight (at most concurrency x (1 + llm_max_retries) x 2 calls of a classify)
are answered but unrecorded, and their messages are redelivered and redone by other workers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import (
    assert_admission_exact,
    assert_no_duplicate_rows,
    assert_round_completed,
    failed_requests,
    lost_requests,
)
from workers.harness import Fleet, fleet

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]


class GatedResponder:
    """Wraps a responder with a think time, a gate that holds answers while closed, and an in-flight count."""

    def __init__(self, inner: SelfInstructResponder, latency_s: float) -> None:
        self.inner, self.latency_s = inner, latency_s
        self.inflight = 0
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self._lock:
            self.inflight += 1
        try:
            time.sleep(self.latency_s)
            self.gate.wait(timeout=60)
            return self.inner(prompt)
        finally:
            with self._lock:
                self.inflight -= 1


def _start(f: Fleet, names: tuple[str, ...], concurrency: int = 2) -> None:
    for name in names:
        f.worker(name, concurrency=concurrency)
    f.beat()
    f.wait_ready(*names)


def test_round_completes_with_a_worker_killed_mid_request_and_30_percent_faults(tmp_path: Path) -> None:
    inner = SelfInstructResponder(seed=31, garbage_rate=0.05, near_duplicate_rate=0.2)
    responder = GatedResponder(inner, latency_s=0.2)
    server = ScriptedLLMServer(responder, fault_rate=0.2, garbage_rate=0.08, seed=7)
    with server, fleet(tmp_path, server.base_url, fleet_inflight=6, llm_prompts_per_request=4) as f:
        _start(f, ("w1", "w2", "w3"))
        round_id = f.start_round(30)
        deadline = time.monotonic() + 60
        while f.counts(round_id).complete < 5:
            assert time.monotonic() < deadline, f.logs_tail()
            time.sleep(0.1)
        responder.gate.clear()  # hold every answer until all six processes wait inside a request...
        while responder.inflight < 6:
            assert time.monotonic() < deadline, "the fleet never had all six processes in a request"
            time.sleep(0.01)
        f.kill("w1")  # ...so w1 dies mid-request
        responder.gate.set()
        killed_at = f.counts(round_id)
        counts = f.wait_round(round_id, timeout_s=120)
        received, statuses = server.requests_total, dict(server.status_counts)
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 30)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
            lost = lost_requests(session, received)
            failed = failed_requests(session)
    assert killed_at.status == "running" and killed_at.complete < 30
    assert 1 <= lost <= 2 * (1 + 2) * 2, lost
    faults = sum(n for code, n in statuses.items() if code != 200)
    assert faults / received >= 0.1, statuses  # 20% drawn as 429/500 (garbage 200s come on top)
    assert counts.rejected, counts.rejected  # malformed output is stored as rejections
    assert failed <= counts.requests // 5


def test_round_completes_across_a_redis_restart(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=41, near_duplicate_rate=0.2)
    with ScriptedLLMServer(responder, latency_s=0.1) as server, fleet(tmp_path, server.base_url) as f:
        _start(f, ("w1", "w2", "w3"))
        round_id = f.start_round(30)
        deadline = time.monotonic() + 60
        while f.counts(round_id).complete < 8:
            assert time.monotonic() < deadline, f.logs_tail()
            time.sleep(0.1)
        f.redis.restart(down_s=1.5)  # kill -9 and start empty: every queued message and hint is gone
        counts = f.wait_round(round_id, timeout_s=120)
        received = server.requests_total
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 30)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
            assert lost_requests(session, received) == 0
    assert counts.complete == 30
    for name in ("w1", "w2", "w3"):  # each worker lost the broker and connected again
        log = f.log(name)
        lost_at = log.find("Connection to broker lost")
        assert lost_at >= 0 and "Connected to " in log[lost_at:], f.logs_tail()


def test_a_refusing_endpoint_fails_a_fleet_round_after_three_refusals_with_the_message_and_no_key(
    tmp_path: Path,
) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=77), api_key="the-right-key") as server, \
            fleet(tmp_path, server.base_url, llm_api_key="sk-wrongwrongwrong") as f:
        f.worker("w1")
        f.wait_ready("w1")
        round_id = f.start_round(20)
        counts = f.wait_round(round_id, timeout_s=60)
        sent = server.requests_total
    assert (counts.status, counts.end_reason) == ("failed", "error")
    assert counts.error is not None and counts.error.startswith(
        "the endpoint refused 3 generate requests in a row: 401 Unauthorized"), counts.error
    assert "wrongwrong" not in counts.error and sent < 100, sent
