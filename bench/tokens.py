"""Token-efficiency benchmark (issue 15): the same round size, side by side in one run.

On the embedded default (no SELFINSTRUCT_LLM_BASE_URL) each arm starts its own llama.cpp servers
and runs one round of ``--instructions`` kept instructions on a fresh SQLite pool with the same
seed, changing only the prefix-reuse settings (``--arms``, default the first three):

* ``no-reuse``      -- the default layout with llama.cpp's slot prefix reuse switched off
                       (SELFINSTRUCT_EMBEDDED_PREFIX_REUSE=0: every prompt evaluated whole): the
                       reference the goal is measured against;
* ``one-server``    -- the default before per-family servers: one slot every stage shares;
* ``four-servers``  -- the previous default: one server per prompt family, generation on one;
* ``default``       -- one server per pinned prompt family and two for generation
                       (SELFINSTRUCT_EMBEDDED_SERVERS=5, generator/llm/routing.py), prefix reuse on;
* ``one-server-no-reuse``, ``ordered``, ``ram-cache``, ``ordered+cache`` -- one server with reuse
  off, with one request at a time grouped by stage (generator/rounds/ordering.py), with
  llama-cpp-python's RAM prompt cache, and with both.

The server does not report cached tokens (``cached`` stays unknown there). With ``--double`` the
arms run against the scripted double with its prompt cache off / on, which reports
``usage.prompt_tokens_details.cached_tokens`` like OpenAI; with SELFINSTRUCT_LLM_BASE_URL set the
same round runs once on that endpoint. On the embedded servers each arm also prints what their
logs say (generator/llm/embedded_log.py, summed over the servers): prompt tokens reused from the
slots (llama.cpp's ``n_past`` prefix match) vs evaluated, RAM-cache hits and misses, and the
servers' prompt-eval vs generation milliseconds (summed: servers run side by side, so the sum can
exceed the wall time). The load average is printed before and after.

``--classify-agreement K`` instead measures multi-task classification on the same endpoint: the
first ``--agreement-tasks`` seed instructions classified one per prompt and K per prompt (JSON
answer), printing the agreement rate, each layout's accuracy against the seeds' own labels, and
the tokens saved (the figure SELFINSTRUCT_CLASSIFY_PER_PROMPT_AGREEMENT asks for on base models).

    .venv/bin/python bench/tokens.py --instructions 10
    .venv/bin/python bench/tokens.py --arms no-reuse,default --repeat 2
    .venv/bin/python bench/tokens.py --double --instructions 50
    .venv/bin/python bench/tokens.py --classify-agreement 5 [--double]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from generator.db import repository as repo
from generator.db.models import LLMRequest, Task
from generator.llm.embedded_log import PrefixReuse
from generator.llm.embedded_servers import EmbeddedServers
from generator.llm.ratelimit import throttled_client
from generator.rounds.runner import RoundRunner
from generator.settings import Settings, load_settings
from generator.steps import StepContext
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from generator.wiring import ensure_seeded_pool, params_of, sessions_for, step_context

EMBEDDED_ARMS: dict[str, dict[str, Any]] = {
    # The reference: the default layout with llama.cpp's slot prefix reuse switched off.
    "no-reuse": {"embedded_prefix_reuse": False},
    # The default before per-family servers: one server whose single slot the stages share.
    "one-server": {"embedded_servers": 1},
    "one-server-no-reuse": {"embedded_servers": 1, "embedded_prefix_reuse": False},
    "ordered": {"embedded_servers": 1, "embedded_prefix_ordering": True},
    "ram-cache": {"embedded_servers": 1, "embedded_prompt_cache_mb": 256},
    "ordered+cache": {"embedded_servers": 1, "embedded_prompt_cache_mb": 256,
                      "embedded_prefix_ordering": True},
    # The previous default: four servers, so generation has one of its own.
    "four-servers": {"embedded_servers": 4},
    # The default: one server per pinned prompt family, the rest generating (generator/llm/routing.py).
    "default": {},
}
DEFAULT_ARMS = "no-reuse,one-server,default"
STAGES = ("generate", "classify", "instances")


@contextmanager
def _endpoint(double: bool, cache: bool) -> Iterator[dict[str, Any]]:
    if not double:
        yield {}
        return
    with ScriptedLLMServer(SelfInstructResponder(seed=3), prompt_cache=cache) as server:
        yield {"llm_base_url": server.base_url, "llm_model": server.model}


def run_arm(base: Settings, overrides: dict[str, Any], instructions: int, seed: int) -> dict[str, Any]:
    """One round on a fresh pool; returns wall time and per-stage token sums per kept instruction."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = base.model_copy(update={"database_url": f"sqlite:///{tmp}/pool.db", **overrides})
        sessions = sessions_for(settings)
        with sessions.begin() as session:
            pool = ensure_seeded_pool(session, settings, "bench")
            params, round_id = params_of(pool), repo.open_round(session, pool, instructions).id
        reuse: PrefixReuse | None = None
        if settings.embedded:  # the servers here rather than in step_context: their logs are read at stop
            with EmbeddedServers(settings) as servers:
                client = servers.client(
                    lambda server: throttled_client(settings, base_url=server.base_url, model=server.model))
                ctx = StepContext(sessions, client, params, settings, random.Random(seed))
                started = time.perf_counter()
                counts = RoundRunner(ctx).run(round_id)
                wall = time.perf_counter() - started
            reuse = servers.reuse
        else:
            with step_context(settings, params, sessions, seed) as ctx:
                started = time.perf_counter()
                counts = RoundRunner(ctx).run(round_id)
                wall = time.perf_counter() - started
        with sessions() as session:
            rows = session.execute(select(
                LLMRequest.stage, func.count(), func.sum(LLMRequest.prompt_tokens),
                func.sum(LLMRequest.cached_tokens), func.count(LLMRequest.cached_tokens),
                func.sum(LLMRequest.completion_tokens),
            ).where(LLMRequest.round_id == round_id).group_by(LLMRequest.stage)).all()
            kept = session.scalar(select(func.count()).where(
                Task.round_id == round_id, Task.status == "complete")) or 0
    stages = {str(r[0]): {"requests": r[1], "prompt": r[2] or 0, "cached": r[3] if r[4] else None,
                          "completion": r[5] or 0} for r in rows}
    return {"wall_s": wall, "kept": kept, "status": counts.status, "stages": stages, "reuse": reuse}


def _per(value: float | None, kept: int) -> str:
    return "?" if value is None or not kept else f"{value / kept:.1f}"


def report(name: str, result: dict[str, Any]) -> None:
    """Print one arm's figures per kept instruction."""
    kept, stages = result["kept"], result["stages"]
    requests = sum(s["requests"] for s in stages.values())
    print(f"{name:14s} kept {kept} ({result['status']}) · wall {result['wall_s']:.1f} s"
          f" · {_per(result['wall_s'], kept)} s/kept"
          f" · {_per(requests, kept)} requests/kept")
    for stage in STAGES:
        s = stages.get(stage)
        if s is None:
            continue
        share = ""
        if s["cached"] is not None and s["prompt"]:
            share = f" ({100 * s['cached'] / s['prompt']:.0f} % cached)"
        print(f"  {stage:10s} prompt {_per(s['prompt'], kept)} · cached {_per(s['cached'], kept)}{share}"
              f" · completion {_per(s['completion'], kept)} tokens/kept"
              f" · {_per(s['requests'], kept)} requests/kept")
    reuse = result.get("reuse")
    if reuse is not None:
        share = f"{100 * reuse.reused_share:.0f} %" if reuse.reused_share is not None else "?"
        print(f"  server log: {reuse.completions} completions · prompt tokens reused from the slot "
              f"{reuse.reused_tokens} vs evaluated {reuse.evaluated_tokens} ({share} reused, "
              f"{reuse.prefix_hits} prefix hits) · RAM cache hits {reuse.ram_cache_hits} / misses "
              f"{reuse.ram_cache_misses} · prompt eval {reuse.prompt_eval_ms / 1000:.1f} s, generation "
              f"{reuse.generation_ms / 1000:.1f} s for {reuse.generated_tokens} tokens")
    print(f"  load average after the arm: {_load()}", flush=True)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instructions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--double", action="store_true", help="scripted double with its prompt cache off/on")
    parser.add_argument("--arms", default=DEFAULT_ARMS,
                        help=f"embedded arms, comma-separated ({', '.join(EMBEDDED_ARMS)})")
    parser.add_argument("--repeat", type=int, default=1, help="run the arms this many times, alternating")
    parser.add_argument("--classify-agreement", type=int, metavar="K", help="measure K tasks per prompt")
    parser.add_argument("--agreement-tasks", type=int, default=40)
    args = parser.parse_args(argv)
    base = load_settings()
    print(f"load average before: {_load()}", flush=True)
    if args.classify_agreement:
        from bench.classify_agreement import measure

        with _endpoint(args.double, False) as endpoint:
            measure(base.model_copy(update=endpoint), args.classify_agreement, args.agreement_tasks)
        print(f"load average after: {_load()}")
        return
    results: dict[str, dict[str, Any]] = {}
    if args.double:
        for name, cache in (("cache-off", False), ("cache-on", True)):
            with _endpoint(True, cache) as endpoint:
                results[name] = run_arm(base, endpoint, args.instructions, args.seed)
            report(name, results[name])
    elif not base.embedded:
        results["endpoint"] = run_arm(base, {}, args.instructions, args.seed)
        report("endpoint", results["endpoint"])
    else:
        arms = args.arms.split(",")
        pooled = {name: [0.0, 0] for name in arms}  # wall s and kept, summed over the repeats
        for repeat in range(1, args.repeat + 1):  # the arms alternate, so drifting load hits each alike
            for name in arms:
                results[name] = run_arm(base, EMBEDDED_ARMS[name], args.instructions, args.seed + repeat - 1)
                report(f"{name} #{repeat}" if args.repeat > 1 else name, results[name])
                pooled[name][0] += results[name]["wall_s"]
                pooled[name][1] += results[name]["kept"]
            _ratio(results, arms, f" (repeat {repeat})" if args.repeat > 1 else "")
        if args.repeat > 1:
            sums = {n: {"wall_s": w, "kept": k} for n, (w, k) in pooled.items()}
            _ratio(sums, arms, " (all repeats pooled)")


def _ratio(results: dict[str, dict[str, Any]], names: list[str], label: str) -> None:
    first, last = results[names[0]], results[names[-1]]
    if len(names) > 1 and first["kept"] and last["kept"]:
        ratio = (first["wall_s"] / first["kept"]) / (last["wall_s"] / last["kept"])
        print(f"wall time per kept instruction{label}: {ratio:.2f}x less in {names[-1]} than {names[0]}"
              " (goal on the embedded default: >= 2x)", flush=True)


if __name__ == "__main__":
    main()
