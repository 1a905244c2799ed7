"""The read-only views answer on SQLite and PostgreSQL, and go away on downgrade."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from generator.db.engine import downgrade, make_engine, open_database, upgrade
from generator.testing.services import fresh_postgres_database
from tests.support.taskpool import build_pool


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pool.db'}"
        sessions = open_database(url)
        with sessions.begin() as session:
            build_pool(session)
        sessions.kw["bind"].dispose()
        eng = make_engine(url)
        yield eng
        eng.dispose()
        return
    with fresh_postgres_database() as url:
        sessions = open_database(url)
        with sessions.begin() as session:
            build_pool(session)
        sessions.kw["bind"].dispose()
        eng = make_engine(url)
        yield eng
        eng.dispose()


def test_final_dataset_has_one_row_per_instance_of_complete_tasks(engine: Engine) -> None:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT task_id, input, output FROM final_dataset ORDER BY task_id, instance_position")
        ).all()
    assert len(rows) == 1 + 2 + 2 + 1 + 3  # the complete tasks' instances
    assert rows[0].output == "out 0"


def test_round_figures_count_tasks_and_requests(engine: Engine) -> None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM round_figures")).one()
    assert (row.pool, row.admitted, row.complete, row.no_instances, row.requests) == ("default", 6, 3, 1, 1)


def test_the_views_are_dropped_on_downgrade_and_come_back(engine: Engine) -> None:
    downgrade(engine, "0002")
    assert not {"final_dataset", "round_figures"} & set(inspect(engine).get_view_names())
    upgrade(engine)
    assert {"final_dataset", "round_figures"} <= set(inspect(engine).get_view_names())
