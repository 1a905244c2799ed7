"""One filter model for `pool list`, `export` and the API, and its SQL (parameterized only).

:class:`TaskFilter` validates on construction: a bad value raises :class:`InvalidFilterError`
naming the value and the valid ones, never an empty result. :func:`task_conditions` turns it
into SQLAlchemy clauses; every user value is a bound parameter.

Text search is a literal, case-sensitive substring match: ``%`` and ``_`` match themselves
on both databases. It compiles to ``instr(...) > 0`` on SQLite and ``strpos(...) > 0`` on
PostgreSQL, because ``LIKE`` differs between them (SQLite's is case-insensitive for ASCII,
PostgreSQL's is not), so ``LIKE ... ESCAPE`` alone cannot give the same rows on both.

Extending it (tags, quality): add an optional field, validate it in ``__post_init__``, and
append a builder ``(TaskFilter) -> list[clause]`` to :data:`CONDITION_BUILDERS` (a tag filter is
an ``EXISTS`` over the tag table, a quality range a join on the score table); every caller
(CLI, export, API) picks it up through the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from generator.db.models import Instance, Task
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


class literal_contains(FunctionElement[int]):
    """``haystack`` contains ``needle`` literally: 1-based position, > 0 when found."""

    type = Integer()
    inherit_cache = True


@compiles(literal_contains, "sqlite")
def _contains_sqlite(element: literal_contains, compiler: Any, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(literal_contains)
def _contains_default(element: literal_contains, compiler: Any, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _value_conditions(f: TaskFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.rounds:
        out.append(Task.round_id.in_(f.rounds))
    if f.origin is not None:
        out.append(Task.origin == f.origin)
    if f.statuses:
        out.append(Task.status.in_(f.statuses))
    if f.classification is not None:
        out.append(Task.is_classification.is_(f.classification))
    return out


def _range_conditions(f: TaskFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.nearest_min is not None:
        out.append(Task.nearest_score >= f.nearest_min)
    if f.nearest_max is not None:
        out.append(Task.nearest_score <= f.nearest_max)
    if f.created_after is not None:
        out.append(Task.created_at > f.created_after)
    if f.created_before is not None:
        out.append(Task.created_at < f.created_before)
    return out


def _content_conditions(f: TaskFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.text:
        out.append(literal_contains(Task.instruction, f.text) > 0)
    if f.has_instances is not None:
        has = exists().where(Instance.task_id == Task.id)
        out.append(has if f.has_instances else ~has)
    return out


CONDITION_BUILDERS: tuple[Callable[[TaskFilter], list[ColumnElement[bool]]], ...] = (
    _value_conditions,
    _range_conditions,
    _content_conditions,
)


def task_conditions(f: TaskFilter, pool_id: int) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``f`` for the pool with id ``pool_id``."""
    clauses: list[ColumnElement[bool]] = [Task.pool_id == pool_id]
    for build in CONDITION_BUILDERS:
        clauses.extend(build(f))
    return clauses


def select_task_ids(f: TaskFilter, pool_id: int, page: Page = Page()) -> Select[Any]:
    """``SELECT tasks.id`` of the matching tasks, id order, paginated."""
    query = select(Task.id).where(*task_conditions(f, pool_id)).order_by(Task.id)
    if page.after_id is not None:
        query = query.where(Task.id > page.after_id)
    if page.offset:
        query = query.offset(page.offset)
    if page.limit is not None:
        query = query.limit(page.limit)
    return query
