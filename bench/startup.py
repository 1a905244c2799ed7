"""CLI start-up benchmark: `--help`, `pool stats`, `pool list` against `python -c pass`; what costs what.

Every case is a fresh ``python`` process (the venv's), run N times in the same run as the
reference; the median wall time and median CPU time (user + system, from ``os.wait4``) are
printed with the difference to ``python -c pass``. Besides the three commands it times the
imports they cannot do without (SQLAlchemy's ORM, the models, pydantic-settings, Typer, Rich), so
the floor the goal (<= 0.5 s) is up against is measured on the same machine in the same run. On an
up-to-date database the two query commands read through generator/db/plain (sqlite3 or psycopg,
no SQLAlchemy); SELFINSTRUCT_PLAIN_READS=0 sends them through the ORM path instead (``--orm``
times that too).

    .venv/bin/python bench/startup.py              # on a fresh SQLite pool of the 175 seeds
    .venv/bin/python bench/startup.py --runs 11

``bench/export.py`` runs the same measurement on its 50K-task pool.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 0.5
COMMANDS = {
    "selfinstruct --help": ["-m", "cli", "--help"],
    "selfinstruct pool stats": ["-m", "cli", "pool", "stats"],
    "selfinstruct pool list --limit 20": ["-m", "cli", "pool", "list", "--limit", "20"],
}
ORM = "  (ORM path, SELFINSTRUCT_PLAIN_READS=0)"
# What the query commands import and cannot do without, one by one and together.
IMPORTS = {
    "import typer": "import typer",
    "import rich.console": "import rich.console",
    "import pydantic": "import pydantic",
    "import pydantic_settings": "import pydantic_settings",
    "import sqlalchemy": "import sqlalchemy",
    "import sqlalchemy.orm": "import sqlalchemy.orm",
    "import generator.db.models": "import generator.db.models",
    "import generator.db.plain": "import generator.db.plain",
    "import psycopg": "import psycopg",
    "import cli.app": "import cli.app",
    # What the plain read path (generator/db/plain) still needs, and what the ORM path added to it.
    "floor: plain path (SQLite)": "import sqlite3, pydantic_settings, typer, rich.console",
    "floor: ORM path": "import sqlalchemy.orm, pydantic_settings, typer, rich.console",
}


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, CPU s user+system, exit code) of one child process."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)


def bench_startup(env: dict[str, str], runs: int = 5, breakdown: bool = True, orm: bool = False) -> None:
    """Print the start-up table (the reference first); ``breakdown`` adds the import floor, ``orm``
    the two query commands on the ORM path."""
    cases: dict[str, list[str]] = {"python -c pass": ["-c", "pass"], **COMMANDS}
    if breakdown:
        cases |= {name: ["-c", code] for name, code in IMPORTS.items()}
    print(f"\nCLI start-up (median of {runs}; goal <= {GOAL_S} s wall; +x = over python -c pass)")
    base: tuple[float, float] | None = None
    for name, args in cases.items():
        runs_ = [measured([sys.executable, *args], env) for _ in range(runs)]
        failed = [code for _, _, code in runs_ if code != 0]
        wall = statistics.median(r[0] for r in runs_)
        cpu = statistics.median(r[1] for r in runs_)
        base = (wall, cpu) if base is None else base
        verdict = "" if name not in COMMANDS else ("  ok" if wall <= GOAL_S else "  over the goal")
        if failed:
            verdict = f"  FAILED (exit {failed[0]})"
        print(f"{name:<36}wall {wall:6.3f} s (+{wall - base[0]:.3f})   CPU {cpu:6.3f} s "
              f"(+{cpu - base[1]:.3f}){verdict}")
        if orm and name in COMMANDS and name != "selfinstruct --help":
            orm_env = {**env, "SELFINSTRUCT_PLAIN_READS": "0"}
            orm_runs = [measured([sys.executable, *args], orm_env) for _ in range(runs)]
            print(f"{ORM:<36}wall {statistics.median(r[0] for r in orm_runs):6.3f} s   "
                  f"CPU {statistics.median(r[1] for r in orm_runs):6.3f} s")
        if name == "selfinstruct pool list --limit 20" and breakdown:
            print("  -- what they import:")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--orm", action="store_true", help="also time the query commands on the ORM path")
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL pool, not SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp, contextlib.ExitStack() as stack:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SELFINSTRUCT_")}
        env["SELFINSTRUCT_DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'pool.db'}"
        if args.postgres:
            from generator.testing.services import fresh_postgres_database

            env["SELFINSTRUCT_DATABASE_URL"] = stack.enter_context(fresh_postgres_database())
        env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
        load = subprocess.run([sys.executable, "-m", "cli", "seeds", "load"], env=env, capture_output=True,
                              text=True, check=True)
        print(load.stderr.strip() or load.stdout.strip())
        print(f"os.cpu_count()={os.cpu_count()}; load average {os.getloadavg()[0]:.2f} at the start")
        bench_startup(env, args.runs, orm=args.orm)
        print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
