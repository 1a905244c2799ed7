"""Migrations go up and down on SQLite and on a real PostgreSQL, and the schema matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from generator.db.engine import downgrade, is_current, make_engine, open_database, upgrade
from generator.db.models import Base, LLMRequest
from generator.testing.services import fresh_postgres_database

TABLES = {"pools", "rounds", "tasks", "instances", "llm_requests", "rejections", "candidates", "task_quality"}


def _roundtrip(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    assert is_current(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"
    downgrade(engine, "base")
    assert not (TABLES & set(inspect(engine).get_table_names()))
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()


def test_migrations_go_up_and_down_on_sqlite(tmp_path: Path) -> None:
    _roundtrip(f"sqlite:///{tmp_path / 'pool.db'}")


@pytest.mark.services
def test_migrations_go_up_and_down_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        _roundtrip(url)


def test_opening_an_empty_database_migrates_it(tmp_path: Path) -> None:
    sessions = open_database(f"sqlite:///{tmp_path / 'fresh.db'}")
    engine = sessions.kw["bind"]
    assert is_current(engine)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _requests_stored_before_batching_name_their_task(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO pools (id, name, seed_source, params, created_at) "
                             "VALUES (1, 'p', '', '{}', CURRENT_TIMESTAMP)")
        for request_id, task_id in ((1, 7), (2, None)):
            conn.execute(text(
                "INSERT INTO llm_requests (id, pool_id, task_id, stage, model, api, prompt, prompt_count, "
                "prompt_tokens, completion_tokens, latency_ms, attempts, created_at) VALUES "
                "(:id, 1, :task, 'classify', 'm', 'completions', 'p', 1, 0, 0, 0, 1, CURRENT_TIMESTAMP)"
            ), {"id": request_id, "task": task_id})
    upgrade(engine)
    with Session(engine) as session:
        stored = dict(session.execute(select(LLMRequest.id, LLMRequest.task_ids)).all())
    assert stored == {1: [7], 2: None}
    downgrade(engine, "0001")
    assert "task_ids" not in {c["name"] for c in inspect(engine).get_columns("llm_requests")}
    engine.dispose()


def test_migration_0002_lists_the_task_of_every_older_request_on_sqlite(tmp_path: Path) -> None:
    _requests_stored_before_batching_name_their_task(f"sqlite:///{tmp_path / 'old.db'}")


@pytest.mark.services
def test_migration_0002_lists_the_task_of_every_older_request_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        _requests_stored_before_batching_name_their_task(url)


def _cached_tokens_column_comes_and_goes(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    assert "cached_tokens" in {c["name"] for c in inspect(engine).get_columns("llm_requests")}
    downgrade(engine, "0006")
    assert "cached_tokens" not in {c["name"] for c in inspect(engine).get_columns("llm_requests")}
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()


def test_migration_0007_adds_and_drops_cached_tokens_on_sqlite(tmp_path: Path) -> None:
    _cached_tokens_column_comes_and_goes(f"sqlite:///{tmp_path / 'cached.db'}")


@pytest.mark.services
def test_migration_0007_adds_and_drops_cached_tokens_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        _cached_tokens_column_comes_and_goes(url)
