"""Fleet benchmark: N workers x concurrency against a scripted endpoint with a fixed latency.

Prints the achieved request rate against the endpoint-bound limit (slots / latency: every
worker process busy in a request all the time; goal >= 90%) and the pipeline CPU per kept
(complete) instruction: user + system time of the worker process trees (main processes and
their pool children, read from /proc/<pid>/stat) over the measured round, divided by the
instructions it completed (goal <= 5 ms). The endpoint (a thread in this process), PostgreSQL
and Redis are not counted. A short warm-up round runs first and is not measured. With
``--admit-worker`` admission and ticks run on one extra process (``-Q admit,control``) instead
of taking turns on the LLM slots: the layout the README recommends for a fleet.

Needs PostgreSQL (SELFINSTRUCT_TEST_PG, default postgres@127.0.0.1:5432) and redis-server:

    .venv/bin/python bench/fleet.py --workers 2 --concurrency 4 --latency 0.3 --instructions 2000
    .venv/bin/python bench/fleet.py --admit-worker --prompts-per-request 8

Each ``--prompts-per-request`` value is measured on a fresh fleet and database, in order; the
default ``1,8`` measures the unbatched pipeline first as the reference. The scripted endpoint
answers a request of any number of prompts in the same latency, as a batching server (vLLM,
TGI) roughly does at these sizes. With ``--tag`` each value is measured twice, a plain round (the
reference) and then a round with InsTag tagging on (every kept task also tagged on the ``tag`` queue).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from workers.faults import DEFAULTS, StageGatedResponder, kill_each_stage
from workers.harness import Fleet, fleet, rabbitmq_missing

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(f: Fleet) -> dict[int, float]:
    """utime + stime of every process of every worker's process group, by pid."""
    out: dict[int, float] = {}
    for name in f.procs:
        for pid in f.pids(name):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)
    return out


@dataclass
class Figures:
    """What one measured round gave."""

    per_request: int
    requests: int
    prompts: int
    wall: float
    complete: int
    cpu: float
    cpu_mains: float
    status: str
    tagged: int = 0


def _tagged(f: Fleet, round_id: int) -> int:
    from sqlalchemy import func, select

    from generator.db.models import Task, TaskTagging

    with f.wc.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(TaskTagging).join(
            Task, Task.id == TaskTagging.task_id).where(Task.round_id == round_id)) or 0)


def measure(a: argparse.Namespace, per_request: int, tag: bool = False) -> Figures:
    """Start the fleet, run the warm-up round, then measure one round of ``a.instructions``."""
    slots = a.workers * a.concurrency
    responder = SelfInstructResponder(seed=a.seed, near_duplicate_rate=0.1, blacklisted_rate=0.05)
    server = ScriptedLLMServer(responder, latency_s=a.latency)
    settings = {"fleet_inflight": slots, "visibility_timeout_s": 3600, "llm_max_retries": 5,
                "fleet_tick_s": 5, "llm_prompts_per_request": per_request}
    with tempfile.TemporaryDirectory() as tmp, server, fleet(Path(tmp), server.base_url, **settings) as f:
        every = "generate,admit,classify,instances,tag,control"
        llm_queues = "generate,classify,instances,tag" if a.admit_worker else every
        for number in range(a.workers):
            f.worker(f"w{number + 1}", a.concurrency, pool=a.pool, loglevel=a.loglevel, queues=llm_queues)
        if a.admit_worker:
            f.worker("admit", 1, pool=a.pool, loglevel=a.loglevel, queues="admit,control")
        f.wait_ready(*f.procs)
        f.wait_round(f.start_round(a.warmup), timeout_s=600)
        cpu_before = cpu_seconds(f)
        received_before, prompts_before = server.requests_total, server.prompts_total
        started = time.monotonic()
        round_id = f.start_round(a.instructions, tag=tag)
        counts = f.wait_round(round_id, timeout_s=3600)
        wall = time.monotonic() - started
        cpu_after = cpu_seconds(f)
        requests, prompts = server.requests_total - received_before, server.prompts_total - prompts_before
        mains = {proc.pid for proc in f.procs.values()}
        tagged = _tagged(f, round_id)
    spent = {pid: t - cpu_before.get(pid, 0.0) for pid, t in cpu_after.items()}
    cpu_mains = sum(t for pid, t in spent.items() if pid in mains)
    status = f"{counts.status}, {counts.end_reason}"
    cpu = sum(spent.values())
    return Figures(per_request, requests, prompts, wall, counts.complete, cpu, cpu_mains, status, tagged)


FAULT_GOALS_S = {"redis": 30.0, "amqp": 10.0}


def faults(runs: int) -> None:
    """Recovery after ``kill -9`` of a worker leasing each stage's message, per broker (default timeouts)."""
    print(f"faults: 4 workers x 1 process + beat; lease {DEFAULTS['lease_s']} s, visibility timeout "
          f"{DEFAULTS['visibility_timeout_s']:.0f} s, task time limit {DEFAULTS['task_time_limit_s']:.0f} s, "
          f"tick {DEFAULTS['fleet_tick_s']} s; seconds from the kill until that work completed elsewhere")
    for broker in ("redis", "amqp"):
        if broker == "amqp" and (why := rabbitmq_missing()) is not None:
            print(f"amqp: skipped ({why})")
            continue
        times: dict[str, list[float]] = {}
        for run in range(runs):
            responder = StageGatedResponder(SelfInstructResponder(seed=90 + run, near_duplicate_rate=0.1))
            with tempfile.TemporaryDirectory() as tmp, ScriptedLLMServer(responder) as server, \
                    fleet(Path(tmp), server.base_url, broker, **DEFAULTS) as f:
                for stage, (_, seconds) in kill_each_stage(f, responder).items():
                    times.setdefault(stage, []).append(seconds)
        goal = FAULT_GOALS_S[broker]
        for stage, values in times.items():
            shown = ", ".join(f"{v:.1f}" for v in values)
            print(f"{broker} {stage}: {shown} s (max {max(values):.1f} s; goal <= {goal:.0f} s)", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=4, help="processes per worker")
    parser.add_argument("--latency", type=float, default=0.3, help="endpoint latency per request, seconds")
    parser.add_argument("--instructions", type=int, default=2000, help="target of the measured round")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--pool", default="prefork", help="Celery pool: prefork | threads")
    parser.add_argument("--loglevel", default="WARNING", help="worker log level")
    parser.add_argument("--admit-worker", action="store_true",
                        help="run admission and ticks on one extra process, off the LLM slots")
    parser.add_argument("--prompts-per-request", default="1,8",
                        help="comma-separated SELFINSTRUCT_LLM_PROMPTS_PER_REQUEST values to measure, "
                             "in order (1 = unbatched, the reference)")
    parser.add_argument("--faults", action="store_true",
                        help="measure recovery from kill -9 per stage and broker instead of throughput")
    parser.add_argument("--fault-runs", type=int, default=2, help="fleets per broker with --faults")
    parser.add_argument("--tag", action="store_true",
                        help="after each plain round, measure a round with InsTag tagging on")
    a = parser.parse_args(argv)
    if a.faults:
        faults(a.fault_runs)
        return
    slots = a.workers * a.concurrency
    limit = slots / a.latency
    extra = " + 1 admission process" if a.admit_worker else ""
    print(f"fleet: {a.workers} workers x {a.concurrency} {a.pool} processes = {slots} LLM slots{extra}, "
          f"endpoint latency {a.latency * 1000:.0f} ms per request (any number of prompts), "
          f"round of {a.instructions}; endpoint-bound limit {limit:.1f} req/s")
    for per_request, tag in ((int(v), t) for v in a.prompts_per_request.split(",")
                             for t in ((False, True) if a.tag else (False,))):
        r = measure(a, per_request, tag)
        rate = r.requests / r.wall
        label = f"tagging on ({r.tagged} tagged), " if tag else ""
        print(f"{label}prompts/request {r.per_request}: {r.requests} requests ({r.prompts} prompts) "
              f"in {r.wall:.1f} s "
              f"= {rate:.1f} req/s -> {100 * rate / limit:.1f}% of the limit (goal >= 90%); "
              f"{r.complete} kept ({r.complete / r.wall:.1f}/s; {r.status})")
        print(f"  worker CPU {r.cpu:.2f} s = {1000 * r.cpu / max(1, r.complete):.2f} ms per kept instruction "
              f"(goal <= 5 ms); main processes {r.cpu_mains:.2f} s, "
              f"pool processes {r.cpu - r.cpu_mains:.2f} s",
              flush=True)


if __name__ == "__main__":
    main()
