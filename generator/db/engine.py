"""Engine and session set-up, and schema migration through Alembic.

SQLite runs in WAL mode with a busy timeout so a CLI and workers can share the file;
PostgreSQL is used as-is. Commands call :func:`open_database`, which migrates an empty
database by itself.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

import migrations
from generator.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
_REVISION = re.compile(r"^revision\s*=\s*['\"](\w+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"](\w+)['\"]", re.M)


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for bare ``postgresql://`` URLs."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a 30 s busy timeout."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at ``migrations/`` and at ``engine``'s URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the schema up to ``revision`` (head by default)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the schema down to ``revision`` (empty schema by default)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _file_head() -> str | None:
    """The single head revision named in ``migrations/versions`` (None when not exactly one)."""
    revisions, parents = set(), set()
    for path in MIGRATIONS_DIR.joinpath("versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _fast_is_current(engine: Engine) -> bool:
    """Compare ``alembic_version`` with the files' head without importing Alembic (CLI start-up)."""
    head = _file_head()
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


def open_database(url: str, migrate: bool = True) -> sessionmaker[Session]:
    """Connect (and migrate if behind); raise DatabaseUnavailableError when unreachable."""
    engine = make_engine(url)
    try:
        if migrate and not is_current(engine):
            upgrade(engine)
    except OperationalError as exc:
        raise DatabaseUnavailableError(f"cannot reach database {engine.url!r}: {exc.orig}") from exc
    return sessionmaker(engine, expire_on_commit=False)
