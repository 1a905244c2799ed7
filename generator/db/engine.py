"""Engine and session set-up, and schema migration through Alembic.

SQLite runs in WAL mode with a busy timeout so a CLI and workers can share the file;
PostgreSQL gets a connect timeout. Commands call :func:`open_database`, which migrates an
empty database by itself. Migrations are atomic and serialized: on SQLite they run in one
``BEGIN IMMEDIATE`` transaction (pysqlite's legacy transaction handling is switched off on the
migration connection, so the DDL is transactional), on PostgreSQL in one transaction holding an
advisory lock. Two commands starting on an empty database therefore migrate it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from generator.db import urls
from generator.db.revisions import MIGRATIONS_DIR, file_head
from generator.db.urls import normalize_url
from generator.errors import ConfigError, DatabaseSchemaError, DatabaseUnavailableError
from generator.redaction import mask_url_passwords

__all__ = ["downgrade", "is_current", "make_engine", "normalize_url", "open_database", "upgrade"]

if TYPE_CHECKING:
    from alembic.config import Config

SQLITE_BUSY_TIMEOUT_S = 30
DEFAULT_CONNECT_TIMEOUT_S = 10.0
# Any constant: every process of the service takes the same lock around migrations.
MIGRATION_LOCK_KEY = 0x5E1F1757


def _sqlite_pragmas(busy_timeout_s: float) -> Any:
    def set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.close()

    return set_pragmas


def make_engine(
    url: str,
    *,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout (30 s) and a 0600 file,
    PostgreSQL a connect timeout. Raises ConfigError (password masked) for an unsupported URL."""
    parsed = urls.parse(url)
    if parsed.drivername.startswith("sqlite"):
        path = urls.sqlite_file(parsed)
        if path is not None:
            urls.create_private_file(path)
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_s))
        return engine
    # libpq counts whole seconds and at least 2.
    timeout = max(2, round(connect_timeout_s))
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={"connect_timeout": timeout}
    )


def _migration_engine(engine: Engine) -> Engine:
    """For SQLite, a one-connection engine whose transactions are real (DDL included) and
    start with ``BEGIN IMMEDIATE`` (the write lock, so concurrent migrations queue); foreign keys
    are off while tables are rebuilt (batch migrations drop and re-create tables). Others as-is."""
    if engine.dialect.name != "sqlite":
        return engine
    migrating = create_engine(engine.url, connect_args={"timeout": max(SQLITE_BUSY_TIMEOUT_S, 60)})

    @event.listens_for(migrating, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT around DDL
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.close()

    @event.listens_for(migrating, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return migrating


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at ``migrations/`` and at ``engine``'s URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _check_not_half_made(conn: Connection) -> None:
    """Raise DatabaseSchemaError when the database has our tables but no schema version: a
    migration run by an older version of the service was interrupted."""
    from alembic.runtime.migration import MigrationContext

    if MigrationContext.configure(conn).get_current_revision() is not None:
        return
    from generator.db.models import Base

    present = sorted(set(inspect(conn).get_table_names()) & set(Base.metadata.tables))
    if present:
        raise DatabaseSchemaError(
            f"database {urls.masked(conn.engine.url)} has tables ({', '.join(present)}) but no schema "
            "version: an earlier migration was interrupted; restore a backup or use a new database "
            "(for SQLite: move the file away)"
        )


def _migrate(engine: Engine, revision: str, up: bool) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    migrating = _migration_engine(engine)
    cfg = alembic_config(engine)
    try:
        with migrating.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            _check_not_half_made(conn)
            cfg.attributes["connection"] = conn
            (command.upgrade if up else command.downgrade)(cfg, revision)
    except CommandError as exc:
        known = ", ".join(sorted(s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()))
        raise ConfigError(f"revision {revision!r}: {exc} (known: {known}, head, base)") from None
    except OperationalError as exc:
        raise unavailable(engine, exc) from exc
    finally:
        if migrating is not engine:
            migrating.dispose()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to ``revision`` (head by default), atomically and under the migration lock."""
    _migrate(engine, revision, up=True)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the schema down to ``revision`` (empty schema by default), atomically."""
    _migrate(engine, revision, up=False)


def _fast_is_current(engine: Engine) -> bool:
    """Compare ``alembic_version`` with the files' head without importing Alembic (CLI start-up)."""
    head = file_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            found = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    except (OperationalError, ProgrammingError) as exc:
        if "alembic_version" in str(exc.orig):  # no table yet: a new database
            return False
        raise
    return found == [head]


def is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration.

    A database whose ``alembic_version`` holds the one head of the migration files is current
    (checked without importing Alembic); anything else is asked of Alembic itself.
    """
    if _fast_is_current(engine):
        return True
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head


def unavailable(engine: Engine, exc: DBAPIError) -> DatabaseUnavailableError:
    """The one-line error of a failed connection or statement (password masked, busy named)."""
    reason = mask_url_passwords(str(exc.orig)).strip().splitlines()[0] if exc.orig else type(exc).__name__
    if "database is locked" in reason:
        reason += " (another process held it longer than SELFINSTRUCT_SQLITE_BUSY_TIMEOUT_S)"
    return DatabaseUnavailableError(f"cannot reach database {urls.masked(engine.url)}: {reason}")


def open_database(
    url: str,
    migrate: bool = True,
    *,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    busy_timeout_s: float = SQLITE_BUSY_TIMEOUT_S,
) -> sessionmaker[Session]:
    """Connect (and migrate if behind); raise DatabaseUnavailableError when unreachable."""
    engine = make_engine(url, connect_timeout_s=connect_timeout_s, busy_timeout_s=busy_timeout_s)
    try:
        if migrate and not is_current(engine):
            upgrade(engine)
    except OperationalError as exc:
        raise unavailable(engine, exc) from exc
    return sessionmaker(engine, expire_on_commit=False)
