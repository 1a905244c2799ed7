"""One-line descriptions of failures that are not our own errors but have a clear cause for users:
a database that refused a statement (busy, gone, out of range) or a number too large for it."""

from __future__ import annotations

from generator.redaction import redact


def describe_failure(exc: Exception) -> str | None:
    """The message to print for ``exc``, or None when it is a bug (let its traceback show)."""
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        lines = str(exc.orig).strip().splitlines() if exc.orig is not None else []
        reason = redact(lines[0]) if lines else type(exc).__name__
        if "database is locked" in reason:
            reason += " (another process held it longer than SELFINSTRUCT_SQLITE_BUSY_TIMEOUT_S; try again)"
        return f"database error: {reason}"
    if isinstance(exc, OverflowError):
        return f"a number is out of range for the database: {exc}"
    return None
