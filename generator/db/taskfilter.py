"""The filter model of `pool list`, `export` and the API: which tasks, which page (no SQL here).

:class:`TaskFilter` validates on construction: a bad value raises :class:`InvalidFilterError`
naming the value and the valid ones, never an empty result. Two query paths read it:
:mod:`generator.db.filters` (SQLAlchemy clauses, every caller) and :mod:`generator.db.plain`
(DB-API SQL for the fast-starting query commands); tests/db/test_plain.py holds them to the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from generator.db.statuses import Origin, TaskStatus
from generator.errors import InvalidFilterError

ORIGINS = tuple(str(o) for o in Origin)
TASK_STATUSES = tuple(str(s) for s in TaskStatus)
MAX_ID = 2**63 - 1


def _check_choice(option: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise InvalidFilterError(f"{option} {value!r} is not valid (valid: {', '.join(valid)})")


def _check_id(option: str, value: int, low: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_ID:
        raise InvalidFilterError(f"{option} {value!r} is out of range ({low}..{MAX_ID})")


def _check_score(option: str, value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidFilterError(f"{option} {value!r} must be between 0 and 1")


def _utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (a time without a zone is taken as UTC already)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class TaskFilter:
    """Which tasks of a pool: every field left at its default matches everything.

    ``rounds``/``statuses`` match any of the given values; ``nearest_min``/``nearest_max`` bound
    the ROUGE-L F1 against the nearest pool instruction (inclusive; seeds have none and drop out
    when either bound is set); ``created_after`` is exclusive and ``created_before`` exclusive.
    """

    pool: str = "default"
    rounds: tuple[int, ...] = ()
    origin: str | None = None
    statuses: tuple[str, ...] = ()
    classification: bool | None = None
    has_instances: bool | None = None
    text: str | None = None
    nearest_min: float | None = None
    nearest_max: float | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def __post_init__(self) -> None:
        if not self.pool or len(self.pool) > 200:
            raise InvalidFilterError(f"--pool {self.pool!r} must be 1..200 characters")
        for rnd in self.rounds:
            _check_id("--round", rnd)
        if self.origin is not None:
            _check_choice("--origin", self.origin, ORIGINS)
        for status in self.statuses:
            _check_choice("--status", status, TASK_STATUSES)
        if self.text is not None and "\x00" in self.text:
            raise InvalidFilterError("--contains must not contain NUL characters")
        _check_score("--nearest-min", self.nearest_min)
        _check_score("--nearest-max", self.nearest_max)
        if (
            self.nearest_min is not None
            and self.nearest_max is not None
            and self.nearest_min > self.nearest_max
        ):
            raise InvalidFilterError(
                f"--nearest-min {self.nearest_min} is above --nearest-max {self.nearest_max}"
            )
        # Stored times are UTC; SQLite compares them as text, so a bound must be UTC too.
        object.__setattr__(self, "created_after", _utc(self.created_after))
        object.__setattr__(self, "created_before", _utc(self.created_before))
        if self.created_after and self.created_before and self.created_after >= self.created_before:
            raise InvalidFilterError("--created-after must be earlier than --created-before")


@dataclass(frozen=True)
class Page:
    """Which slice of the matching tasks, in id order.

    ``after_id`` is keyset pagination (fast at any depth: pass the last id of the previous
    page); ``offset`` skips rows after that (slow deep into a large pool).
    """

    limit: int | None = None
    offset: int = 0
    after_id: int | None = None

    def __post_init__(self) -> None:
        if self.limit is not None and not 1 <= self.limit <= MAX_ID:
            raise InvalidFilterError(f"--limit {self.limit!r} must be at least 1")
        if not 0 <= self.offset <= MAX_ID:
            raise InvalidFilterError(f"--offset {self.offset!r} must be 0 or more")
        if self.after_id is not None:
            _check_id("--after-id", self.after_id, low=0)
