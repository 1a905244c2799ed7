"""The database survives kills and races during migration, never hangs on a silent server,
and its URL and file stay private."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from generator.db.engine import downgrade, is_current, make_engine, open_database, upgrade
from generator.errors import ConfigError, DatabaseSchemaError, DatabaseUnavailableError
from generator.settings import load_settings
from generator.testing.services import fresh_postgres_database

REPO = Path(__file__).resolve().parents[2]
# A child that migrates ``url`` with every CREATE TABLE slowed down, saying when it is half way.
SLOW_MIGRATION = """
import sys, time
from alembic.operations import ops, toimpl
import alembic.operations.toimpl as t
created = []
original = t.create_table
def slow_create_table(operations, operation):
    result = original(operations, operation)
    created.append(operation.table_name)
    if len(created) == 3:
        print("half", flush=True)
        time.sleep(float(sys.argv[3]))
    time.sleep(float(sys.argv[2]))
    return result
from alembic.operations import Operations
Operations._to_impl._registry[(ops.CreateTableOp, "default")] = slow_create_table
from generator.db.engine import open_database
open_database(sys.argv[1]).kw["bind"].dispose()
print("done", flush=True)
"""


def _child(url: str, delay: float, pause_half_way: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_MIGRATION, url, str(delay), str(pause_half_way)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _kill_half_way(url: str) -> None:
    child = _child(url, 0.0, pause_half_way=60.0)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "half", child.stderr.read() if child.stderr else ""
    child.kill()
    child.wait()


def test_a_kill_during_the_first_migration_leaves_a_usable_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pool.db'}"
    _kill_half_way(url)
    sessions = open_database(url)
    assert is_current(sessions.kw["bind"])


@pytest.mark.services
def test_a_kill_during_the_first_migration_leaves_a_usable_postgresql_database() -> None:
    with fresh_postgres_database() as url:
        _kill_half_way(url)
        engine = open_database(url).kw["bind"]
        assert is_current(engine)
        engine.dispose()


def test_a_half_made_database_is_one_clear_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'half.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE pools (id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseSchemaError, match="tables \\(pools\\) but no schema version"):
        open_database(url)


def _race(url: str) -> None:
    children = [_child(url, 0.2) for _ in range(2)]
    results = [child.communicate(timeout=120) for child in children]
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0 and out.strip().endswith("done"), err


def test_two_commands_racing_the_first_migration_on_sqlite_both_succeed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    _race(url)
    assert is_current(make_engine(url))


@pytest.mark.services
def test_two_commands_racing_the_first_migration_on_postgresql_both_succeed() -> None:
    with fresh_postgres_database() as url:
        _race(url)
        engine = make_engine(url)
        assert is_current(engine)
        engine.dispose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not done.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    done.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_a_postgresql_server_that_never_answers_gives_one_clear_error_within_the_timeout(
    silent_server: int,
) -> None:
    url = f"postgresql://user:hunter2secret@127.0.0.1:{silent_server}/pool"
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailableError) as caught:
        open_database(url, connect_timeout_s=2)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert message.startswith("cannot reach database postgresql+psycopg://user:***@127.0.0.1")
    assert "hunter2secret" not in message and "\n" not in message


def test_the_connect_timeout_is_a_setting_with_a_sane_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().database_connect_timeout_s == 10.0
    monkeypatch.setenv("SELFINSTRUCT_DATABASE_CONNECT_TIMEOUT_S", "3")
    assert load_settings().database_connect_timeout_s == 3.0


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://u:hunter2secret@h/db", "mysql://u:hunter2secret@h/db", "oracle://h",
        "selfinstruct.db",
    ],
)
def test_an_unsupported_database_url_is_one_line_without_its_password(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SELFINSTRUCT_DATABASE_URL", url)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("invalid setting SELFINSTRUCT_DATABASE_URL=") and "is not supported" in message
    assert "hunter2secret" not in message and "\n" not in message
    with pytest.raises(ConfigError, match="is not supported") as direct:
        make_engine(url)
    assert "hunter2secret" not in str(direct.value)


@pytest.mark.services
def test_the_common_postgres_scheme_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    with fresh_postgres_database() as url:
        common = "postgres://" + url.split("://", 1)[1]
        monkeypatch.setenv("SELFINSTRUCT_DATABASE_URL", common)
        engine = open_database(load_settings().database_url).kw["bind"]
        assert engine.url.drivername == "postgresql+psycopg" and is_current(engine)
        engine.dispose()


def test_the_sqlite_file_and_its_wal_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    engine = open_database(f"sqlite:///{path}").kw["bind"]
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM pools"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        modes = {f.name: stat.S_IMODE(os.stat(f).st_mode) for f in files}
    assert modes == {f.name: 0o600 for f in files}
    engine.dispose()


def test_an_unknown_revision_is_one_clear_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'rev.db'}")
    with pytest.raises(ConfigError, match=r"revision 'nope'.*known: 0001, 0002"):
        upgrade(engine, "nope")
    with pytest.raises(ConfigError, match="revision 'nope'"):
        downgrade(engine, "nope")


def test_sqlite_migrations_keep_the_rows_of_tables_they_rebuild(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'keep.db'}")
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pools (id, name, seed_source, params, created_at) "
                          "VALUES (1, 'p', '', '{}', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO rounds (id, pool_id, target, status, mode, created_at) "
                          "VALUES (1, 1, 5, 'running', 'inprocess', CURRENT_TIMESTAMP)"))
        conn.execute(text(
            "INSERT INTO llm_requests (id, pool_id, stage, model, api, prompt, prompt_count, prompt_tokens, "
            "completion_tokens, latency_ms, attempts, created_at) VALUES "
            "(1, 1, 'generate', 'm', 'completions', 'p', 1, 0, 0, 0, 1, CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO candidates (id, pool_id, round_id, request_id, position, text, "
                          "status, created_at) VALUES (1, 1, 1, 1, 0, 'x', 'pending', CURRENT_TIMESTAMP)"))
    upgrade(engine)  # 0002 rebuilds llm_requests; candidates point at it with ON DELETE CASCADE
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM candidates")).scalar() == 1
    assert "candidates" in inspect(engine).get_table_names()
    engine.dispose()
