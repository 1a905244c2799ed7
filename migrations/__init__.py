"""Alembic migrations of the pool database (a package so they install with the library)."""
