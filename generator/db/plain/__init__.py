"""DB-API reads for the query commands that must start fast: no SQLAlchemy, no Alembic, no ORM.

`pool stats` and `pool list` run hundreds of times a day; importing SQLAlchemy and declaring the
models alone costs more than their whole start-up goal (0.5 s, bench/startup.py). This package
answers them with the standard library's ``sqlite3`` or with ``psycopg`` directly, on a database
that is already at the current schema. Anything else (a new file, an older schema, an unknown
URL form) makes :func:`open_plain` return None and the command takes the regular path, which
migrates or explains. The SQL here reads the same tables as :mod:`generator.db.stats` and
:mod:`generator.db.listing`; tests/db/test_plain.py holds both paths to the same answers on
SQLite and PostgreSQL, filters and injection strings included.
"""

from generator.db.plain.connection import PlainDB, open_plain
from generator.db.plain.queries import list_tasks, pool_stats

__all__ = ["PlainDB", "list_tasks", "open_plain", "pool_stats"]
