"""Self-Instruct synthetic data generator: the library.

Stages here are pure functions over typed records; the database and the Celery fleet
sit at the edges. This package never imports :mod:`celery`.
"""

__version__ = "0.1.0"
