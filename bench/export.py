"""Export, API listing and CLI start-up benchmark.

1. Export: a SQLite pool of N machine tasks x 3 instances (default 50K x 3) is exported to every
   format by ``selfinstruct export`` in its own process: wall time and peak RSS of that process
   (``os.wait4``). Goal: <= 30 s and <= 500 MiB per format on 2 cores.
2. API: a PostgreSQL pool of 1M tasks (built with ``generate_series``, one instance each; dropped
   afterwards) is listed by ``GET /pools/default/tasks?limit=100`` through the ASGI app: first
   page, a keyset page in the middle (``after_id``) and, for reference, the same page by
   ``offset``. Median of 15 requests each. Goal: <= 50 ms for a page.
3. CLI start-up: ``--help``, ``pool stats`` and ``pool list --limit 20`` on the SQLite pool against
   ``python -c pass`` in the same run (median of 5; ``bench/startup.py``, which also times the
   imports they cannot avoid). Goal: <= 0.5 s.

    .venv/bin/python bench/export.py                 # everything
    .venv/bin/python bench/export.py --tasks 5000 --skip-api
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from bench.startup import bench_startup
from generator.db.engine import open_database
from generator.db.models import Instance, Pool, Round, Task

FORMATS = ("alpaca", "jsonl", "openai-chat", "sharegpt", "selfinstruct", "parquet", "hf")
SUFFIX = {"alpaca": ".json", "parquet": ".parquet", "hf": ""}
WORDS = ["write", "explain", "list", "compare", "summarize", "classify", "translate", "describe", "rewrite",
         "name"]


def _instruction(i: int) -> str:
    return f"{WORDS[i % 10].capitalize()} item {i} about topic {i * 7919 % 100003} in {i % 9 + 2} sentences."


def build_sqlite_pool(url: str, n: int) -> None:
    """N complete machine tasks with 3 instances each, inserted with Core executemany."""
    sessions = open_database(url)
    with sessions.begin() as session:
        pool = Pool(name="default", params={})
        session.add(pool)
        session.flush()
        rnd = Round(pool_id=pool.id, target=n, status="completed")
        session.add(rnd)
        session.flush()
        conn = session.connection()
        step = 10_000
        for start in range(0, n, step):
            ids = range(start + 1, min(n, start + step) + 1)
            conn.execute(
                insert(Task),
                [
                    {
                        "id": i,
                        "pool_id": pool.id,
                        "round_id": rnd.id,
                        "instruction": _instruction(i),
                        "instruction_hash": f"h{i}",
                        "origin": "machine",
                        "status": "complete",
                        "is_classification": i % 4 == 0,
                        "nearest_score": (i % 70) / 100,
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(Instance),
                [
                    {
                        "task_id": i,
                        "position": k,
                        "input": "" if k == 0 else f"Input {k} for task {i}: some text.",
                        "output": f"Output {k} of task {i}, a sentence or two of answer text here.",
                    }
                    for i in ids
                    for k in range(3)
                ],
            )
    sessions.kw["bind"].dispose()


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS MiB, exit code, CPU seconds user+system) of one child process.

    CPU time is reported too because on a shared machine wall time includes waiting for a core.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if proc.stderr is not None:
        proc.stderr.close()
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def bench_exports(env: dict[str, str], out: Path, n: int) -> None:
    print(f"export of {n} tasks x 3 instances (goal <= 30 s, <= 500 MiB each)")
    print(f"{'format':<14}{'wall s':>9}{'CPU s':>8}{'peak MiB':>10}{'size MiB':>10}  result")
    for fmt in FORMATS:
        target = out / f"export-{fmt}{SUFFIX.get(fmt, '.jsonl')}"
        wall, rss, code, cpu = run_measured(
            [sys.executable, "-m", "cli", "export", "--format", fmt, "-o", str(target), "--provenance"], env
        )
        size = sum(p.stat().st_size for p in target.rglob("*")) if target.is_dir() else target.stat().st_size
        ok = "ok" if code == 0 and wall <= 30 and rss <= 500 else f"MISSED (exit {code})"
        print(f"{fmt:<14}{wall:>9.2f}{cpu:>8.2f}{rss:>10.0f}{size / 2**20:>10.1f}  {ok}")


def _median_ms(fn: object, repeat: int = 15) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_api(n: int) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from generator.settings import Settings
    from generator.testing import services

    with services.fresh_postgres_database() as url:
        sessions = open_database(url)
        start = time.perf_counter()
        with sessions.begin() as session:
            session.execute(
                text(
                    "INSERT INTO pools (id, name, seed_source, params, created_at) "
                    "VALUES (1, 'default', '', '{}', now())"
                )
            )
            session.execute(
                text(
                    "INSERT INTO tasks (id, pool_id, instruction, instruction_hash, origin, status, "
                    "is_classification, classification_attempts, nearest_score, created_at) "
                    "SELECT g, 1, 'Instruction number ' || g || ' about topic ' || "
                    "(CAST(g AS bigint) * 7919 % 100003), 'h' || g, 'machine', 'complete', g % 4 = 0, 0, "
                    "(g % 70) / 100.0, now() "
                    "FROM generate_series(1, :n) g"
                ),
                {"n": n},
            )
            session.execute(
                text(
                    "INSERT INTO instances (task_id, position, input, output) "
                    "SELECT g, 0, '', 'Output of task ' || g FROM generate_series(1, :n) g"
                ),
                {"n": n},
            )
        session_build = time.perf_counter() - start
        with sessions() as session:
            session.execute(text("ANALYZE"))
        sessions.kw["bind"].dispose()
        client = TestClient(create_app(Settings(database_url=url)))
        client.get("/pools/default/tasks", params={"limit": 100})  # warm the connection pool
        middle = n // 2
        first = _median_ms(lambda: client.get("/pools/default/tasks", params={"limit": 100}))
        keyset = _median_ms(
            lambda: client.get("/pools/default/tasks", params={"limit": 100, "after_id": middle})
        )
        filtered = _median_ms(
            lambda: client.get(
                "/pools/default/tasks",
                params={"limit": 100, "after_id": middle, "classification": True, "nearest_min": 0.3},
            )
        )
        offset = _median_ms(
            lambda: client.get("/pools/default/tasks", params={"limit": 100, "offset": middle}), repeat=5
        )
        client.close()
    print(
        f"\nAPI page of 100 tasks from a {n}-task PostgreSQL pool "
        f"(built in {session_build:.1f} s; goal <= 50 ms)"
    )
    print(f"first page                       {first:8.1f} ms")
    print(f"keyset page at id {middle:<14} {keyset:8.1f} ms")
    print(f"keyset + classification + nearest {filtered:7.1f} ms")
    print(f"offset {middle} (reference)      {offset:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--api-tasks", type=int, default=1_000_000)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--api-only", action="store_true")
    args = parser.parse_args()
    if args.api_only:
        bench_api(args.api_tasks)
        return
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'pool.db'}"
        start = time.perf_counter()
        build_sqlite_pool(url, args.tasks)
        print(
            f"built a {args.tasks}-task SQLite pool in {time.perf_counter() - start:.1f} s; "
            f"os.cpu_count()={os.cpu_count()}"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("SELFINSTRUCT_")}
        env["SELFINSTRUCT_DATABASE_URL"] = url
        bench_exports(env, folder, args.tasks)
        bench_startup(env)
    if not args.skip_api:
        bench_api(args.api_tasks)


if __name__ == "__main__":
    main()
