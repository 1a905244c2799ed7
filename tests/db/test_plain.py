"""The plain DB-API read path answers `pool stats` and `pool list` exactly as the ORM path does.

Both paths run on the same hand-built pool on SQLite and PostgreSQL, for every filter the model
has (injection strings and literal ``%``/``_`` included) and every way of paging; the plain path
steps aside (None) whenever the regular, migrating path must run.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from generator.db import plain
from generator.db.engine import downgrade, make_engine, open_database
from generator.db.listing import list_tasks
from generator.db.repository import get_pool
from generator.db.stats import pool_stats
from generator.db.taskfilter import Page, TaskFilter
from generator.errors import DatabaseUnavailableError, NotFoundError
from generator.testing.services import fresh_postgres_database
from tests.support.taskpool import BASE_TIME, add_lineage, build_pool

Sessions = sessionmaker[Session]
EVIL = ["'; DROP TABLE tasks;--", "Robert'); DROP TABLE tasks;--", "\\", "' OR 1=1 --", '" OR ""="',
        "%' OR '1'='1", "%(text)s", ":text", "50%", "%", "_", "e_v", "my_var", "HAIKU", "haiku"]


@contextlib.contextmanager
def _database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'pool.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def both(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Sessions, plain.PlainDB, dict[str, int]]]:
    with _database_url(request.param, tmp_path) as url:
        sessions = open_database(url)
        with sessions.begin() as session:
            ids = build_pool(session)
            add_lineage(session, ids, "Compute 50% of the given number.")
            build_pool(session, "other")
        db = plain.open_plain(url, connect_timeout_s=5, busy_timeout_s=5)
        assert db is not None
        yield sessions, db, ids
        db.close()
        sessions.kw["bind"].dispose()


def _filters(ids: dict[str, int]) -> list[TaskFilter]:
    east = timezone(timedelta(hours=5))  # a bound in another zone means the same instant
    return [
        TaskFilter(),
        TaskFilter(pool="other"),
        TaskFilter(origin="seed"),
        TaskFilter(origin="machine", classification=True),
        TaskFilter(classification=False),
        TaskFilter(statuses=("no_instances", "pending_classification")),
        TaskFilter(rounds=(ids["round"],)),
        TaskFilter(rounds=(ids["round"], 999)),
        TaskFilter(has_instances=True),
        TaskFilter(has_instances=False),
        TaskFilter(nearest_min=0.4, nearest_max=0.5),
        TaskFilter(nearest_max=0.3),
        TaskFilter(created_after=BASE_TIME + timedelta(days=1), created_before=BASE_TIME + timedelta(days=4)),
        TaskFilter(created_after=(BASE_TIME + timedelta(days=2)).astimezone(east)),
        TaskFilter(created_before=(BASE_TIME + timedelta(days=2)).replace(tzinfo=None)),
        *[TaskFilter(text=evil) for evil in EVIL],
    ]


PAGES = [Page(), Page(limit=3), Page(limit=3, offset=2), Page(offset=5), Page(after_id=3),
         Page(limit=2, after_id=4)]


def test_every_filter_and_page_lists_the_same_rows_on_both_paths(
    both: tuple[Sessions, plain.PlainDB, dict[str, int]],
) -> None:
    sessions, db, ids = both
    compared = 0
    with sessions() as session:
        for f in _filters(ids):
            for page in PAGES:
                expected = list_tasks(session, f, page)
                assert plain.list_tasks(db, f, page) == expected, (f, page)
                compared += len(expected)
    assert compared > 100  # the cases do select rows, not only empty lists


def test_a_listed_row_carries_its_instances_model_and_times(
    both: tuple[Sessions, plain.PlainDB, dict[str, int]],
) -> None:
    _, db, _ = both
    rows = {r.instruction: r for r in plain.list_tasks(db, TaskFilter())}
    paperclip = rows["List three uses of a paperclip."]
    assert [i.output for i in paperclip.instances] == ["out 0", "out 1", "out 2"]
    assert paperclip.model == "tiny-model" and rows["Write a haiku about autumn."].model is None
    assert paperclip.is_classification is False and paperclip.as_json()["created_at"].startswith("2026-01-08")


def test_pool_stats_are_the_same_on_both_paths(both: tuple[Sessions, plain.PlainDB, dict[str, int]]) -> None:
    sessions, db, _ = both
    with sessions() as session:
        expected = pool_stats(session, get_pool(session, "default"))
    found = plain.pool_stats(db, "default")
    assert found == expected
    assert found.rejections and found.requests.total >= 3 and found.instances == 9


def test_an_unknown_pool_is_the_same_error_on_both_paths(
    both: tuple[Sessions, plain.PlainDB, dict[str, int]],
) -> None:
    _, db, _ = both
    with pytest.raises(NotFoundError, match=r"no pool named 'nope' \(pools: default, other\)"):
        plain.list_tasks(db, TaskFilter(pool="nope"))
    with pytest.raises(NotFoundError, match="seeds load --pool nope"):
        plain.pool_stats(db, "nope")


def test_the_injection_strings_left_the_tables_in_place(
    both: tuple[Sessions, plain.PlainDB, dict[str, int]],
) -> None:
    _, db, _ = both
    for evil in EVIL:
        plain.list_tasks(db, TaskFilter(text=evil))
    assert len(plain.list_tasks(db, TaskFilter())) == 8


def test_the_plain_connection_cannot_write(both: tuple[Sessions, plain.PlainDB, dict[str, int]]) -> None:
    _, db, _ = both
    with pytest.raises(Exception, match=r"(?i)read.only|readonly|query_only|attempt to write"):
        db.rows("DELETE FROM tasks")
    assert len(plain.list_tasks(db, TaskFilter())) == 8


def test_a_missing_file_a_memory_url_and_an_older_schema_take_the_regular_path(tmp_path: Path) -> None:
    def opened(url: str) -> plain.PlainDB | None:
        return plain.open_plain(url, connect_timeout_s=5, busy_timeout_s=5)

    missing = tmp_path / "new.db"
    assert opened(f"sqlite:///{missing}") is None
    assert not missing.exists()  # looking did not create it: the migrating path will
    assert opened("sqlite://") is None and opened("sqlite:///:memory:") is None
    assert opened(f"sqlite:///{tmp_path / 'x.db'}?mode=ro") is None
    sqlite3.connect(tmp_path / "foreign.db").execute("CREATE TABLE t (x)").connection.commit()
    assert opened(f"sqlite:///{tmp_path / 'foreign.db'}") is None  # not a pool database
    url = f"sqlite:///{tmp_path / 'old.db'}"
    open_database(url).kw["bind"].dispose()
    current = opened(url)
    assert current is not None
    current.close()
    engine = make_engine(url)
    downgrade(engine, "0007")
    engine.dispose()
    assert opened(url) is None  # behind the code: the regular path migrates it


@pytest.mark.services
def test_an_unreachable_postgres_is_one_error_with_the_password_masked() -> None:
    with pytest.raises(DatabaseUnavailableError, match=r"cannot reach database postgresql://u:\*\*\*@127\.0\.0\.1:9/x"):
        plain.open_plain("postgresql://u:secret@127.0.0.1:9/x", connect_timeout_s=2, busy_timeout_s=5)
