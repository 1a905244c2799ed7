"""Migrations go up and down on SQLite and on a real PostgreSQL, and the schema matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from generator.db.engine import downgrade, is_current, make_engine, open_database, upgrade
from generator.db.models import Base
from tests.support.services import fresh_postgres_database

TABLES = {"pools", "rounds", "tasks", "instances", "llm_requests", "rejections", "candidates"}


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
