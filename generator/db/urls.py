"""Database URLs: the schemes the service supports, their normal form, and how they are shown.

A URL may carry a password; every message that shows one goes through :func:`masked` so the
password never reaches a terminal, a log or the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from generator.errors import ConfigError
from generator.redaction import mask_url_passwords
from generator.settings import DATABASE_SCHEMES as SCHEMES
from generator.settings import check_database_scheme as check_scheme
from generator.settings import scheme_of


def parse(url: str) -> URL:
    """The SQLAlchemy URL of a supported ``url`` (``postgres://`` and bare ``postgresql://`` use psycopg 3).

    Raises ConfigError naming the setting (password masked) when the URL is unsupported or malformed."""
    try:
        check_scheme(url)
        parsed = make_url(url)
    except (ValueError, ArgumentError) as exc:
        shown, reason = mask_url_passwords(url), mask_url_passwords(str(exc))
        raise ConfigError(f"invalid setting SELFINSTRUCT_DATABASE_URL={shown!r}: {reason}") from None
    return parsed.set(drivername=SCHEMES[scheme_of(url)])


def normalize_url(url: str) -> str:
    """The URL string SQLAlchemy is given (password kept): see :func:`parse`."""
    return parse(url).render_as_string(hide_password=False)


def masked(url: URL | str) -> str:
    """``url`` for messages: the password replaced by ``***``."""
    if isinstance(url, str):
        return mask_url_passwords(url)
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL; None for in-memory databases and non-SQLite URLs."""
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return None
    if str(url.database).startswith("file:"):
        return None
    return Path(str(url.database))


def create_private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (0600) when it does not exist yet.

    The file holds every prompt and response; SQLite gives its ``-wal`` and ``-shm`` files the
    database file's permissions. An existing file keeps its mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError:
        return  # a missing folder or no permission: SQLite's own error says so on connect
    os.close(fd)
