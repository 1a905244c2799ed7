"""`pool stats` and `pool list` in plain SQL: the same answers as generator.db.stats / listing.

Every user value is a named parameter. Text search is literal on both databases (``instr`` on
SQLite, ``strpos`` on PostgreSQL, as in :mod:`generator.db.filters`), so ``%``, ``_`` and quotes
match themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from generator.db.plain.connection import PlainDB
from generator.db.readmodels import PoolStats, RequestTotals, TaskRow, TokenTotals
from generator.db.taskfilter import Page, TaskFilter
from generator.errors import NotFoundError
from generator.export.records import ExportInstance

_CLASSIFICATION = {True: "yes", False: "no", None: "unknown"}  # SQLite's 1/0 hash as True/False
# SQLAlchemy's SQLite DateTime stores and binds this text form (UTC, no zone suffix).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _pool_id(db: PlainDB, name: str, missing: str) -> int:
    found = db.rows("SELECT id FROM pools WHERE name = :name", {"name": name})
    if not found:
        if missing == "stats":
            raise NotFoundError(
                f"no pool named {name!r} (create it with `selfinstruct seeds load --pool {name}`)"
            )
        names = [r[0] for r in db.rows("SELECT name FROM pools ORDER BY name LIMIT 20")]
        raise NotFoundError(f"no pool named {name!r} (pools: {', '.join(names) or 'none'})")
    return int(found[0][0])


def pool_stats(db: PlainDB, name: str) -> PoolStats:
    """What :func:`generator.db.stats.pool_stats` returns for the pool called ``name``."""
    pool = {"pool": _pool_id(db, name, "stats")}

    def grouped(table: str, *cols: str) -> list[tuple[Any, ...]]:
        keys = ", ".join(cols)
        return db.rows(f"SELECT {keys}, count(*) FROM {table} WHERE pool_id = :pool GROUP BY {keys}", pool)

    req = db.rows(
        "SELECT count(*), count(error), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),"
        " sum(cost_usd), coalesce(sum(cached_tokens), 0) FROM llm_requests WHERE pool_id = :pool",
        pool,
    )[0]
    by_origin = {str(o): int(n) for o, n in grouped("tasks", "origin")}
    instances = db.rows(
        "SELECT count(*) FROM tasks JOIN instances ON instances.task_id = tasks.id"
        " WHERE tasks.pool_id = :pool",
        pool,
    )[0][0]
    return PoolStats(
        pool=name,
        tasks=sum(by_origin.values()),
        by_origin=by_origin,
        by_classification={
            _CLASSIFICATION[None if c is None else bool(c)]: int(n)
            for c, n in grouped("tasks", "is_classification")
        },
        by_status={str(s): int(n) for s, n in grouped("tasks", "status")},
        instances=int(instances or 0),
        rejections={f"{st}/{r}": int(n) for st, r, n in grouped("rejections", "stage", "reason")},
        rounds={str(s): int(n) for s, n in grouped("rounds", "status")},
        requests=RequestTotals(
            int(req[0]), int(req[1]), {str(s): int(n) for s, n in grouped("llm_requests", "stage")}
        ),
        tokens=TokenTotals(int(req[2]), int(req[3]), int(req[5])),
        cost_usd=float(req[4]) if req[4] is not None else None,
    )


def _in(column: str, name: str, values: tuple[Any, ...], params: dict[str, Any]) -> str:
    names = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        names.append(f":{name}{i}")
    return f"{column} IN ({', '.join(names)})"


def _time(db: PlainDB, moment: datetime) -> Any:
    return moment.strftime(_SQLITE_TIME) if db.dialect == "sqlite" else moment


def where(db: PlainDB, f: TaskFilter, pool_id: int, page: Page, params: dict[str, Any]) -> str:
    """The WHERE clause of ``f`` (and of the page's keyset) over ``tasks``; fills ``params``."""
    params["pool_id"] = pool_id
    out = ["tasks.pool_id = :pool_id"]
    if f.rounds:
        out.append(_in("tasks.round_id", "round", f.rounds, params))
    if f.origin is not None:
        params["origin"] = f.origin
        out.append("tasks.origin = :origin")
    if f.statuses:
        out.append(_in("tasks.status", "status", f.statuses, params))
    if f.classification is not None:
        params["cls"] = f.classification
        out.append("tasks.is_classification = :cls")
    for key, op, value in (("nearest_min", ">=", f.nearest_min), ("nearest_max", "<=", f.nearest_max)):
        if value is not None:
            params[key] = value
            out.append(f"tasks.nearest_score {op} :{key}")
    for key, op, moment in (("after", ">", f.created_after), ("before", "<", f.created_before)):
        if moment is not None:
            params[key] = _time(db, moment)
            out.append(f"tasks.created_at {op} :{key}")
    if f.text:
        params["text"] = f.text
        out.append(f"{'instr' if db.dialect == 'sqlite' else 'strpos'}(tasks.instruction, :text) > 0")
    if f.has_instances is not None:
        out.append(
            ("" if f.has_instances else "NOT ")
            + "EXISTS (SELECT 1 FROM instances WHERE instances.task_id = tasks.id)"
        )
    if page.after_id is not None:
        params["after_id"] = page.after_id
        out.append("tasks.id > :after_id")
    return " AND ".join(out)


def _slice(db: PlainDB, page: Page, params: dict[str, Any]) -> str:
    if page.limit is None and not page.offset:
        return ""
    params["limit"] = page.limit if page.limit is not None else -1
    params["offset"] = page.offset
    if db.dialect == "sqlite":
        return " LIMIT :limit OFFSET :offset"  # SQLite's "no limit" is -1
    return (" LIMIT :limit" if page.limit is not None else "") + " OFFSET :offset"


def _timestamp(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def list_tasks(db: PlainDB, f: TaskFilter, page: Page = Page()) -> list[TaskRow]:
    """What :func:`generator.db.listing.list_tasks` returns: matching tasks, id order, sliced."""
    params: dict[str, Any] = {}
    matching = (
        f"FROM tasks WHERE {where(db, f, _pool_id(db, f.pool, 'list'), page, params)} ORDER BY tasks.id"
    )
    matching += _slice(db, page, params)
    found = db.rows(
        "SELECT tasks.id, tasks.origin, tasks.round_id, tasks.status, tasks.is_classification,"
        " tasks.instruction, tasks.nearest_task_id, tasks.nearest_score, tasks.created_at, llm_requests.model"
        " FROM tasks LEFT OUTER JOIN candidates ON candidates.id = tasks.candidate_id"
        " LEFT OUTER JOIN llm_requests ON llm_requests.id = candidates.request_id"
        f" WHERE tasks.id IN (SELECT tasks.id {matching}) ORDER BY tasks.id",
        params,
    )
    instances: dict[int, list[ExportInstance]] = {}
    for task_id, inp, out in db.rows(
        f"SELECT task_id, input, output FROM instances WHERE task_id IN (SELECT tasks.id {matching})"
        " ORDER BY task_id, position",
        params,
    ):
        instances.setdefault(task_id, []).append(ExportInstance(inp, out))
    return [
        TaskRow(
            row[0],
            row[1],
            row[2],
            row[3],
            None if row[4] is None else bool(row[4]),
            row[5],
            row[6],
            row[7],
            _timestamp(row[8]),
            row[9],
            tuple(instances.get(row[0], ())),
        )
        for row in found
    ]
