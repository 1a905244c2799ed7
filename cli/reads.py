"""The two read paths of `pool stats` and `pool list`: plain SQL when it can, the ORM when it must.

On a database already at the current schema both commands read through
:mod:`generator.db.plain` (sqlite3 or psycopg, no SQLAlchemy import: bench/startup.py); a new
or older database, or ``SELFINSTRUCT_PLAIN_READS=0``, takes the regular path, which migrates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.db.plain import PlainDB
    from generator.db.readmodels import PoolStats, TaskRow
    from generator.db.taskfilter import Page, TaskFilter
    from generator.settings import Settings


def plain_reader(settings: Settings) -> PlainDB | None:
    """The plain path's connection, or None when the regular (migrating) path must run."""
    if not settings.plain_reads:
        return None
    from generator.db.plain import open_plain

    return open_plain(settings.database_url, connect_timeout_s=settings.database_connect_timeout_s,
                      busy_timeout_s=settings.sqlite_busy_timeout_s)


def listed_tasks(settings: Settings, f: TaskFilter, page: Page) -> list[TaskRow]:
    """`pool list`'s rows: the tasks of ``f.pool`` matching ``f``, in id order, sliced by ``page``."""
    plain = plain_reader(settings)
    if plain is not None:
        from generator.db.plain import list_tasks as plain_list

        with plain:
            return plain_list(plain, f, page)
    from generator.db.listing import list_tasks
    from generator.wiring import sessions_for

    with sessions_for(settings)() as session:
        return list_tasks(session, f, page)


def pool_stats(settings: Settings, pool: str) -> PoolStats:
    """`pool stats`' figures for the pool called ``pool``."""
    plain = plain_reader(settings)
    if plain is not None:
        from generator.db.plain import pool_stats as plain_stats

        with plain:
            return plain_stats(plain, pool)
    from generator.db import repository as repo
    from generator.db import stats
    from generator.wiring import sessions_for

    with sessions_for(settings)() as session:
        return stats.pool_stats(session, repo.get_pool(session, pool))
