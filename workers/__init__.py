"""The Celery worker fleet: thin tasks over :mod:`generator.steps`, per-stage queues, beat schedule.

The database is the source of truth and messages are hints: every piece of pending work can be
derived from the tables (see :mod:`workers.control`), so a lost message only delays a round.
"""
