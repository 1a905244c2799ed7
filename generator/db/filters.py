"""The SQL of the one filter model (:mod:`generator.db.taskfilter`), parameterized only.

:func:`task_conditions` turns a :class:`TaskFilter` into SQLAlchemy clauses; every user value
is a bound parameter.

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
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from generator.db.models import Instance, Task
from generator.db.taskfilter import MAX_ID, ORIGINS, TASK_STATUSES, Page, TaskFilter

__all__ = ["MAX_ID", "ORIGINS", "TASK_STATUSES", "Page", "TaskFilter", "select_task_ids", "task_conditions"]

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
