"""The `selfinstruct` command as users run it: a real process, a scripted endpoint, a SQLite file."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def endpoint() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer(SelfInstructResponder(seed=21, near_duplicate_rate=0.2)) as server:
        yield server


def cli_env(tmp_path: Path, server: ScriptedLLMServer | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFINSTRUCT_")}
    env["SELFINSTRUCT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'pool.db'}"
    if server is not None:
        env.update(
            SELFINSTRUCT_LLM_BASE_URL=server.base_url,
            SELFINSTRUCT_LLM_MODEL="scripted-model",
            SELFINSTRUCT_LLM_CONCURRENCY="2",
        )
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def machine_tasks_so_far(db: Path) -> int:
    """Machine tasks in a database another process may still be creating (0 until its tables exist)."""
    try:
        return count(db, "SELECT count(*) FROM tasks WHERE origin='machine'") if db.exists() else 0
    except sqlite3.OperationalError:
        return 0


def test_generate_then_stats_list_and_export(tmp_path: Path, endpoint: ScriptedLLMServer) -> None:
    env = cli_env(tmp_path, endpoint)
    done = run(["generate", "--instructions", "4"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    stats = json.loads(run(["pool", "stats", "--json"], env, tmp_path).stdout)
    assert stats["by_origin"] == {"seed": 175, "machine": stats["tasks"] - 175}
    assert stats["by_status"]["complete"] >= 175 + 4
    assert stats["requests"]["total"] > 0 and stats["tokens"]["total"] > 0
    listed = [
        json.loads(line)
        for line in run(
            ["pool", "list", "--origin", "machine", "--status", "complete", "--json"], env, tmp_path
        ).stdout.splitlines()
    ]
    assert len(listed) == 4 and all(row["instances"] for row in listed)
    out = tmp_path / "out" / "alpaca.json"  # a folder that does not exist yet
    exported = run(["export", "--format", "alpaca", "--output", str(out)], env, tmp_path)
    assert exported.returncode == 0, exported.stderr
    rows = json.loads(out.read_text())
    assert {r["instruction"] for r in rows} == {row["instruction"] for row in listed}


def test_a_killed_generate_resumes_and_reaches_exactly_its_target(tmp_path: Path) -> None:
    slow = ScriptedLLMServer(SelfInstructResponder(seed=8), latency_s=0.05)
    with slow:
        env = cli_env(tmp_path, slow)
        db = tmp_path / "pool.db"
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "generate", "-n", "12"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if machine_tasks_so_far(db) >= 3:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        before = count(db, "SELECT count(*) FROM tasks WHERE origin='machine' AND status='complete'")
        assert before < 12
        again = run(["generate", "-n", "12"], env, tmp_path)
        assert again.returncode == 0, again.stderr
        assert "resuming round 1" in again.stderr
    assert count(db, "SELECT count(*) FROM rounds") == 1
    assert count(db, "SELECT count(*) FROM tasks WHERE origin='machine' AND status='complete'") == 12
    assert (
        count(db, "SELECT count(*) FROM (SELECT instruction_hash FROM tasks GROUP BY 1 HAVING count(*) > 1)")
        == 0
    )
    assert count(db, "SELECT count(*) FROM candidates WHERE status='pending'") == 0


def test_a_refused_round_exits_1_with_its_cause_and_a_rerun_resumes_it_to_exactly_n(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=9), api_key="the-right-key") as server:
        env = cli_env(tmp_path, server)
        wrong = {**env, "SELFINSTRUCT_LLM_API_KEY": "sk-wrongwrongwrong"}
        refused = run(["generate", "-n", "5"], wrong, tmp_path)
        assert refused.returncode == 1, refused.stderr
        assert "round 1 failed: the endpoint refused 3 generate requests in a row: 401" in refused.stderr
        assert "wrongwrong" not in refused.stderr and server.requests_total < 10
        again = run(["generate", "-n", "5"], {**env, "SELFINSTRUCT_LLM_API_KEY": "the-right-key"}, tmp_path)
        assert again.returncode == 0, again.stderr
        assert "resuming failed round 1 (target 5" in again.stderr
    db = tmp_path / "pool.db"
    assert count(db, "SELECT count(*) FROM rounds") == 1
    assert count(db, "SELECT count(*) FROM tasks WHERE origin='machine' AND status='complete'") == 5
    assert count(db, "SELECT count(*) FROM llm_requests WHERE error LIKE '%wrongwrong%'") == 0


def test_in_process_rounds_take_a_budget_and_a_deadline(tmp_path: Path, endpoint: ScriptedLLMServer) -> None:
    env = cli_env(tmp_path, endpoint)
    late = run(["generate", "-n", "50", "--deadline", "2001-01-01T00:00"], env, tmp_path)
    assert late.returncode == 0, late.stderr
    assert "round 1 completed (deadline)" in late.stderr
    spent = run(["generate", "-n", "1000", "--pool", "other", "--budget-tokens", "1500"], env, tmp_path)
    assert spent.returncode == 0, spent.stderr
    assert "round 2 completed (budget)" in spent.stderr


def test_a_bad_seed_file_names_file_line_and_field_and_loads_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "seeds.jsonl"
    good = {
        "id": "a",
        "name": "a",
        "instruction": "Say hello to the user politely.",
        "instances": [{"input": "", "output": "Hello!"}],
        "is_classification": False,
    }
    bad.write_text(
        json.dumps(good) + "\n" + json.dumps({**good, "id": "b", "is_classification": "no"}) + "\n"
    )
    env = cli_env(tmp_path)
    result = run(["seeds", "load", str(bad)], env, tmp_path)
    assert result.returncode == 2
    assert f"{bad}:2" in result.stderr and "is_classification" in result.stderr
    db = tmp_path / "pool.db"
    assert not db.exists() or count(db, "SELECT count(*) FROM tasks") == 0


def test_seeds_load_is_idempotent(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    first = run(["seeds", "load"], env, tmp_path)
    second = run(["seeds", "load"], env, tmp_path)
    assert "loaded 175 new" in first.stderr and "loaded 0 new" in second.stderr
    assert count(tmp_path / "pool.db", "SELECT count(*) FROM tasks") == 175


def test_an_invalid_setting_is_named(tmp_path: Path) -> None:
    env = cli_env(tmp_path) | {"SELFINSTRUCT_LLM_API": "telepathy"}
    result = run(["pool", "stats"], env, tmp_path)
    assert result.returncode == 2 and "SELFINSTRUCT_LLM_API" in result.stderr


def test_an_unknown_pool_is_a_clear_error(tmp_path: Path) -> None:
    result = run(["pool", "stats", "--pool", "nope"], cli_env(tmp_path), tmp_path)
    assert result.returncode == 2 and "no pool named 'nope'" in result.stderr


@pytest.mark.embedded
def test_the_embedded_default_runs_a_real_round_and_exports_it(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="install the embedded extra: pip install -e '.[embedded]'")
    env = cli_env(tmp_path)  # no endpoint configured: the embedded llama.cpp server is started
    done = run(["generate", "--instructions", "2", "--seed", "0"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "alpaca.json"
    assert run(["export", "--format", "alpaca", "--output", str(out)], env, tmp_path).returncode == 0
    rows = json.loads(out.read_text())
    assert len({r["instruction"] for r in rows}) >= 2 and all(r["output"] for r in rows)
    db = tmp_path / "pool.db"
    assert count(db, "SELECT count(*) FROM llm_requests WHERE model = 'gemma-3-270m'") > 0
    assert count(db, "SELECT count(*) FROM llm_requests WHERE completion_tokens > 0") > 0


def test_export_to_an_unwritable_place_is_one_clear_error(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert run(["seeds", "load"], env, tmp_path).returncode == 0
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run(["export", "--output", str(blocker / "alpaca.json")], env, tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr and str(blocker) in result.stderr


def test_generate_with_steer_stores_the_strategy_and_every_prompts_aims(
    tmp_path: Path, endpoint: ScriptedLLMServer
) -> None:
    env = cli_env(tmp_path, endpoint)
    # Steering counts stored InsTag tags: tag the seeds first, so even the first prompt has tags to hint.
    assert run(["seeds", "load"], env, tmp_path).returncode == 0
    assert run(["tag"], env, tmp_path).returncode == 0
    done = run(["generate", "--instructions", "3", "--steer", "tag-hints"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    db = tmp_path / "pool.db"
    with sqlite3.connect(db) as conn:
        (steering,) = conn.execute("SELECT steering FROM rounds").fetchone()
        plans = [json.loads(row[0]) for row in conn.execute(
            "SELECT steering FROM llm_requests WHERE stage = 'generate'")]
    assert json.loads(steering)["strategy"] == "tag-hints"
    assert plans and all(plan[0]["strategy"] == "tag-hints" and plan[0]["aimed_tags"] for plan in plans)
    bad = run(["generate", "--instructions", "3", "--steer", "sideways"], env, tmp_path)
    assert bad.returncode == 2 and "sideways" in bad.stderr
