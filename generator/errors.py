"""The one error hierarchy of the project.

Every error is either *transient* (retrying the same work later may succeed: the
Celery layer retries these) or *permanent* (retrying cannot help: the input, the
settings or the data must change). Malformed LLM output is never an error: it is a
stored rejection.
"""

from __future__ import annotations


class SelfInstructError(Exception):
    """Raised when anything in this project fails; the root of the hierarchy."""


class TransientError(SelfInstructError):
    """Raised when a failure may go away if the same work is retried later."""


class PermanentError(SelfInstructError):
    """Raised when retrying the same work cannot succeed."""


class ConfigError(PermanentError):
    """Raised when a setting is missing or invalid; the message names the setting."""


class InputFileError(PermanentError):
    """Raised when a user-supplied file is malformed; the message names file, line and field."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.detail = message


class SeedFileError(InputFileError):
    """Raised when a seed-task file is malformed (bad JSON, missing field, wrong type)."""


class LLMTransientError(TransientError):
    """Raised when the LLM endpoint timed out, rate-limited (429) or failed (5xx) after all retries."""


class LLMPermanentError(PermanentError):
    """Raised when the LLM endpoint rejects a request for good (bad key, unknown model, bad request)."""


class EmbeddedModelError(PermanentError):
    """Raised when the embedded llama.cpp server cannot be started or never answers."""


class DatabaseUnavailableError(TransientError):
    """Raised when the database cannot be reached; retry once it is back."""


class DatabaseSchemaError(PermanentError):
    """Raised when the database schema is in a state no migration can proceed from (half made)."""


class RunnerBusyError(PermanentError):
    """Raised when another process already runs the pool's in-process round (``selfinstruct generate``)."""


class NotFoundError(PermanentError):
    """Raised when a pool, round or task named by the user does not exist."""


class RoundStateError(PermanentError):
    """Raised when a round cannot take the requested transition (e.g. cancelling a finished round)."""


class BrokerUnavailableError(TransientError):
    """Raised when the Celery broker or the Redis rate limiter cannot be reached."""


class InvalidFilterError(PermanentError):
    """Raised when a task filter or page value is invalid; the message names the value and the valid ones."""


class ExportError(PermanentError):
    """Raised when an export cannot be made as asked (unknown format, bad split, unusable output path)."""
