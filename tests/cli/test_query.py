"""`pool list`, `pool show` and `export` as a user runs them, on a hand-built SQLite pool."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from generator.db.engine import open_database
from tests.cli.test_commands import cli_env
from tests.support.taskpool import TASKS, add_lineage, build_pool


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = cli_env(tmp_path)
    sessions = open_database(environment["SELFINSTRUCT_DATABASE_URL"])
    with sessions.begin() as session:
        ids = build_pool(session)
        add_lineage(session, ids, "Compute 50% of the given number.")
    sessions.kw["bind"].dispose()
    return environment


def run(
    args: list[str], env: dict[str, str], cwd: Path, umask: int = 0o022
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.umask(umask),
    )


def test_pool_list_as_json_csv_and_a_wide_table(env: dict[str, str], tmp_path: Path) -> None:
    rows = [json.loads(x) for x in run(["pool", "list", "--json"], env, tmp_path).stdout.splitlines()]
    assert [r["instruction"] for r in rows] == [t[0] for t in TASKS]
    table = run(["pool", "list", "--origin", "machine", "--contains", "my_var"], env, tmp_path).stdout
    assert "Rename the variable my_var to snake_case." in table  # one line: no 80-column cut
    assert "Compute" not in table
    listed = list(
        csv.DictReader(
            io.StringIO(run(["pool", "list", "--csv", "--limit", "2", "--offset", "1"], env, tmp_path).stdout)
        )
    )
    assert [r["instruction"] for r in listed] == [TASKS[1][0], TASKS[2][0]]
    assert listed[1]["instances"] == "2"


def test_a_bogus_origin_is_an_error_listing_the_valid_ones(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["pool", "list", "--origin", "bogus"], env, tmp_path)
    assert result.returncode == 2
    assert "--origin 'bogus' is not valid (valid: seed, machine)" in result.stderr
    assert "Traceback" not in result.stderr


def test_pool_show_tells_the_task_story(env: dict[str, str], tmp_path: Path) -> None:
    listed = [
        json.loads(x)
        for x in run(["pool", "list", "--json", "--contains", "50%"], env, tmp_path).stdout.split("\n")
        if x
    ]
    shown = run(["pool", "show", str(listed[0]["id"])], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    for text in [
        "Compute 50% of the given number.",
        "in-context examples:",
        "  - Write a haiku about autumn.",
        "generation request",
        "classification",
        "--- response ---\n No",
        "instances request",
        "rejected instances/instance_duplicate",
    ]:
        assert text in shown.stdout
    story = json.loads(run(["pool", "show", str(listed[0]["id"]), "--json"], env, tmp_path).stdout)
    assert story["classification"]["response"] == " No"
    missing = run(["pool", "show", "99999"], env, tmp_path)
    assert missing.returncode == 2 and "no task with id 99999" in missing.stderr


def test_export_follows_the_umask_and_the_filters(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "out" / "chat.jsonl"
    done = run(["export", "--format", "openai-chat", "-o", str(out), "--provenance"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 2 + 1 + 3  # instances of the complete machine tasks
    assert rows[0]["model"] == "tiny-model"
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_export_to_dev_null_writes_through(env: dict[str, str], tmp_path: Path) -> None:
    done = run(["export", "--format", "jsonl", "-o", "/dev/null"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def test_export_to_stdout_and_a_split(env: dict[str, str], tmp_path: Path) -> None:
    done = run(["export", "--format", "alpaca", "-o", "-", "--include-seeds"], env, tmp_path)
    assert len(json.loads(done.stdout)) == 1 + 2 + 2 + 1 + 3
    split = run(
        ["export", "--format", "parquet", "-o", str(tmp_path / "d.parquet"), "--split", "0.5"], env, tmp_path
    )
    assert split.returncode == 0, split.stderr
    assert (tmp_path / "d.train.parquet").exists() and (tmp_path / "d.test.parquet").exists()


def test_a_bad_format_is_one_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    result = run(["export", "--format", "csv", "-o", str(tmp_path / "x")], env, tmp_path)
    assert result.returncode == 2 and "'csv' is not a known export format" in result.stderr
    assert not (tmp_path / "x").exists()
