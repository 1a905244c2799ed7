"""The schema revision the code expects, read from the migration files without importing Alembic.

The fast query path (:mod:`generator.db.plain`) and :func:`generator.db.engine.is_current` both
compare a database's ``alembic_version`` with :func:`file_head`, so a query command on an
up-to-date database never pays for Alembic (or, on the plain path, for SQLAlchemy).
"""

from __future__ import annotations

import re
from pathlib import Path

import migrations

MIGRATIONS_DIR = Path(migrations.__file__).resolve().parent
_REVISION = re.compile(r"^revision\s*=\s*['\"](\w+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\s*=\s*['\"](\w+)['\"]", re.M)


def file_head() -> str | None:
    """The single head revision named in ``migrations/versions`` (None when not exactly one)."""
    revisions, parents = set(), set()
    for path in MIGRATIONS_DIR.joinpath("versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        parents.update(_DOWN.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None
