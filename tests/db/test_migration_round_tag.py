"""Migration 0008: ``rounds.tag`` comes (false for the rounds already stored) and goes, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from generator.db.engine import downgrade, is_current, make_engine, upgrade
from generator.testing.services import fresh_postgres_database


def _round_tag_comes_and_goes(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO pools (name, params, seed_source, created_at) "
                          "VALUES ('p', '{}', '', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO rounds (pool_id, target, status, mode, created_at) "
                          "VALUES (1, 5, 'completed', 'fleet', CURRENT_TIMESTAMP)"))
    upgrade(engine)
    assert is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT tag FROM rounds")).scalar_one() in (False, 0)
    downgrade(engine, "0007")
    assert "tag" not in {c["name"] for c in inspect(engine).get_columns("rounds")}
    upgrade(engine)
    engine.dispose()


def test_migration_0008_adds_rounds_tag_false_for_old_rounds_and_drops_it_on_sqlite(tmp_path: Path) -> None:
    _round_tag_comes_and_goes(f"sqlite:///{tmp_path / 'tag.db'}")


@pytest.mark.services
def test_migration_0008_adds_rounds_tag_false_for_old_rounds_and_drops_it_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        _round_tag_comes_and_goes(url)
