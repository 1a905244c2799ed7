"""Database edge of the library: SQLAlchemy 2.0 models, engine set-up, repository functions."""
