"""One read-only DB-API connection (sqlite3 or psycopg) with named parameters on both.

SQL is written once with ``:name`` placeholders (sqlite3's style) and rewritten to psycopg's
``%(name)s`` for PostgreSQL; user values are always parameters, never text in the statement.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from generator.db.revisions import file_head
from generator.errors import DatabaseUnavailableError
from generator.redaction import mask_url_passwords

_NAMED = re.compile(r"(?<![:\w]):(\w+)")
_POSTGRES_SCHEMES = ("postgresql://", "postgresql+psycopg://", "postgres://")


@dataclass
class PlainDB:
    """A connection and its dialect (``sqlite`` or ``postgresql``); close it when done."""

    conn: Any
    dialect: str

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Every row of ``sql`` run with ``params`` (named, ``:name``)."""
        if self.dialect == "postgresql":
            sql = _NAMED.sub(r"%(\1)s", sql)
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params or {})
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> PlainDB:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _sqlite_path(url: str) -> Path | None:
    """The file of a plain ``sqlite:///path`` URL; None for memory, query strings or other forms."""
    for scheme in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(scheme):
            rest = url[len(scheme):]
            if not rest or "?" in rest or rest == ":memory:":
                return None
            return Path(unquote(rest))
    return None


def _connect_sqlite(path: Path, busy_timeout_s: float) -> PlainDB | None:
    if not path.is_file():
        return None  # a new pool: the regular path creates and migrates it
    # mode=rw never creates a file; query_only refuses any write this path might attempt.
    conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=rw", uri=True, timeout=busy_timeout_s)
    conn.execute("PRAGMA query_only=ON")
    return PlainDB(conn, "sqlite")


def _connect_postgres(url: str, connect_timeout_s: float) -> PlainDB:
    import psycopg

    conninfo = "postgresql://" + url.split("://", 1)[1]
    try:
        # libpq counts whole seconds and at least 2, as in generator.db.engine.make_engine.
        conn = psycopg.connect(conninfo, connect_timeout=max(2, round(connect_timeout_s)), autocommit=True,
                               options="-c default_transaction_read_only=on")
    except psycopg.OperationalError as exc:
        reason = mask_url_passwords(str(exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise DatabaseUnavailableError(f"cannot reach database {mask_url_passwords(url)}: {reason}") from None
    return PlainDB(conn, "postgresql")


def _is_current(db: PlainDB) -> bool:
    head = file_head()
    try:
        found = [row[0] for row in db.rows("SELECT version_num FROM alembic_version")]
    except Exception:  # no version table (sqlite3 and psycopg raise different classes): not ours
        return False
    return head is not None and found == [head]


def open_plain(url: str, *, connect_timeout_s: float, busy_timeout_s: float) -> PlainDB | None:
    """A read-only connection to ``url`` when it is a SQLite file or PostgreSQL database at the
    current schema; None when the regular path must take over. Raises DatabaseUnavailableError
    (password masked) when PostgreSQL cannot be reached."""
    db: PlainDB | None
    if url.lower().startswith(_POSTGRES_SCHEMES):
        db = _connect_postgres(url, connect_timeout_s)
    else:
        path = _sqlite_path(url)
        db = _connect_sqlite(path, busy_timeout_s) if path is not None else None
    if db is not None and not _is_current(db):
        db.close()
        return None
    return db
