"""Kill-a-worker scenarios with default timeouts, shared by the fault tests and ``bench/fleet.py --faults``.

Four single-process workers and beat run with the README's defaults (lease 15 s, visibility
timeout 3,600 s, task time limit 900 s, tick every 10 s). For each stage a small round starts
while the endpoint holds that stage's answers (a gate), the worker leasing such a message is
found through its leases in Redis, its process group is stopped with ``kill -9`` (or any
signal), the gate opens, and the time until that work completed on another worker is measured:

* generate: the round keeps one generate request in flight (``fleet_inflight=1``), so the
  killed one is the round's only request: recovered when a generate request completes after
  the kill (a broker redelivery of the same message, or a tick's replacement once the lease
  expired);
* classify / instances: recovered when every task the killed message leased has its
  instances (or ended without).
No pytest import: the benchmark uses it too.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from generator.db import requests
from generator.db.statuses import TaskStatus
from generator.db.tasks import task_statuses
from generator.selfinstruct import classification, instances
from generator.testing.responders import SelfInstructResponder
from workers.harness import Fleet
from workers.leases import LeaseStore

STAGES = ("generate", "classify", "instances")
DEFAULTS: dict[str, object] = {
    "lease_s": 15.0, "visibility_timeout_s": 3600.0, "task_time_limit_s": 900.0, "fleet_tick_s": 10.0,
    "llm_timeout_s": 120.0, "fleet_inflight": 1, "llm_prompts_per_request": 2,
}
WORKERS = ("w1", "w2", "w3", "w4")


def stage_of(prompt: str) -> str:
    if instances.OUTPUT_FIRST_MARKER in prompt or instances.INPUT_FIRST_MARKER in prompt:
        return "instances"
    return "classify" if classification.PROMPT_MARKER in prompt else "generate"


class StageGatedResponder:
    """A responder whose answers of a stage wait while that stage's gate is closed."""

    def __init__(self, inner: SelfInstructResponder, latency_s: float = 0.05) -> None:
        self.inner, self.latency_s = inner, latency_s
        self.gates = {stage: threading.Event() for stage in STAGES}
        for gate in self.gates.values():
            gate.set()
        self.waiting: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        stage = stage_of(prompt)
        time.sleep(self.latency_s)
        with self._lock:
            self.waiting[stage] += 1
        try:
            self.gates[stage].wait(timeout=300)
        finally:
            with self._lock:
                self.waiting[stage] -= 1
        return self.inner(prompt)


@dataclass(frozen=True)
class Holder:
    """A worker running a message of a stage, and the items it leases."""

    worker: str
    task_id: str
    items: list[int]


def find_holder(f: Fleet, stage: str, timeout_s: float = 120.0) -> Holder:
    """Wait until some worker runs a ``stage`` message holding leases; return it."""
    deadline = time.monotonic() + timeout_s
    store: LeaseStore = f.wc.leases
    while time.monotonic() < deadline:
        for hostname, running in (f.wc.app.control.inspect(timeout=1.0).active() or {}).items():
            for message in running:
                args = message.get("args") or []
                if message["name"] == "selfinstruct.generate" and stage == "generate" and len(args) > 1:
                    score = store.redis.zscore(store.leases_key(int(args[0])), f"generate:{args[1]}")
                    if score is not None:
                        return Holder(hostname.split("@")[0], message["id"], [int(args[1])])
                elif message["name"] in ("selfinstruct.classify", "selfinstruct.instances") and len(args) > 1:
                    keys = [store.claim_key(stage, int(i)) for i in args[1]]
                    values = store.redis.mget(keys) if keys else []
                    lease = f"l:{message['id']}".encode()
                    mine = [int(i) for i, v in zip(args[1], values, strict=True) if v == lease]
                    if mine:
                        return Holder(hostname.split("@")[0], message["id"], mine)
        time.sleep(0.2)
    raise AssertionError(f"no worker held a {stage} message within {timeout_s} s\n{f.logs_tail()}")


def _recovered(f: Fleet, round_id: int, stage: str, holder: Holder, since: datetime) -> bool:
    with f.wc.sessions() as session:
        if stage == "generate":
            return bool(requests.answered_since(session, round_id, "generate", since))
        statuses = task_statuses(session, holder.items)
        return all(s in (TaskStatus.COMPLETE, TaskStatus.NO_INSTANCES) for s in statuses)


def interrupt(f: Fleet, responder: StageGatedResponder, round_id: int, stage: str,
              sig: int = signal.SIGKILL, timeout_s: float = 90.0) -> tuple[Holder, float]:
    """Hold ``stage``'s answers, signal the process group of a worker leasing such a message, let
    the answers go; returns the holder and the seconds until its work completed elsewhere."""
    responder.gates[stage].clear()
    holder = find_holder(f, stage)
    since = datetime.now(UTC)
    os.killpg(f.procs[holder.worker].pid, sig)
    started = time.monotonic()
    if sig == signal.SIGKILL:
        f.procs[holder.worker].wait(timeout=10)
    responder.gates[stage].set()
    while not _recovered(f, round_id, stage, holder, since):
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"{stage} work of {holder} not redone within {timeout_s} s\n{f.logs_tail()}")
        time.sleep(0.1)
    return holder, time.monotonic() - started


def start_fleet(f: Fleet) -> None:
    for name in WORKERS:
        f.worker(name, concurrency=1)
    f.beat()
    f.wait_ready(*WORKERS)


def kill_each_stage(f: Fleet, responder: StageGatedResponder,
                    target: int = 8) -> dict[str, tuple[int, float]]:
    """A round per stage, each losing a worker killed while leasing a message of that stage.

    Returns, per stage, the round id and the seconds until the killed work completed elsewhere."""
    start_fleet(f)
    out = {}
    for stage in STAGES:
        responder.gates[stage].clear()  # the round's first message of the stage waits for its answer
        round_id = f.start_round(target)
        out[stage] = (round_id, interrupt(f, responder, round_id, stage)[1])
        f.wait_round(round_id, timeout_s=120)
    return out
