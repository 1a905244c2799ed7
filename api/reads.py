"""Read endpoints: tasks (filtered, paginated), one task's lineage, pool stats, rounds, export download."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from api.deps import session
from generator.db import repository as repo
from generator.db import stats
from generator.db.filters import MAX_ID, Page, TaskFilter
from generator.db.lineage import task_lineage
from generator.db.listing import count_tasks, iter_export_tasks, list_rounds, list_tasks, matching_ids
from generator.db.statuses import Origin, TaskStatus

router = APIRouter()
DB = Annotated[Session, Depends(session)]
PoolName = Annotated[str, PathParam(min_length=1, max_length=200, description="Pool name.")]
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
# The query parameters' schema (OpenAPI enums); the same texts as generator/db/statuses.py.
OriginParam = Literal["seed", "machine"]
StatusParam = Literal["pending_classification", "pending_instances", "complete", "no_instances"]
Format = Literal["alpaca", "jsonl", "openai-chat", "sharegpt", "selfinstruct", "parquet", "hf"]


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def task_filter(
    pool: PoolName,
    round: Annotated[list[Annotated[int, Query(ge=1, le=MAX_ID)]] | None, Query()] = None,
    origin: OriginParam | None = None,
    status: Annotated[list[StatusParam] | None, Query()] = None,
    classification: bool | None = None,
    has_instances: bool | None = None,
    contains: Annotated[str | None, Query(max_length=1000, description="Literal, case-sensitive.")] = None,
    nearest_min: Annotated[float | None, Query(ge=0, le=1)] = None,
    nearest_max: Annotated[float | None, Query(ge=0, le=1)] = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> TaskFilter:
    """The query parameters as a TaskFilter (the same one `pool list` and `export` use)."""
    return TaskFilter(
        pool=pool,
        rounds=tuple(round or ()),
        origin=origin,
        statuses=tuple(status or ()),
        classification=classification,
        has_instances=has_instances,
        text=contains,
        nearest_min=nearest_min,
        nearest_max=nearest_max,
        created_after=_aware(created_after),
        created_before=_aware(created_before),
    )


Filter = Annotated[TaskFilter, Depends(task_filter)]


@router.get("/pools/{pool}/tasks", summary="List or search tasks")
def get_tasks(
    f: Filter,
    db: DB,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    after_id: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="Keyset: last id of the previous page.")
    ] = None,
    with_total: Annotated[bool, Query(description="Also count every match (slower on big pools).")] = False,
) -> dict[str, Any]:
    """Matching tasks in id order; ``next_after_id`` fetches the next page fast at any depth."""
    rows = list_tasks(db, f, Page(limit=limit, offset=offset, after_id=after_id))
    out: dict[str, Any] = {
        "tasks": [r.as_json() for r in rows],
        "next_after_id": rows[-1].id if len(rows) == limit else None,
    }
    if with_total:
        out["total"] = count_tasks(db, f)
    return out


@router.get("/tasks/{task_id}", summary="One task with its lineage")
def get_task(task_id: Id, db: DB) -> dict[str, Any]:
    """The task, its generation request, in-context examples, nearest match, classification, instances."""
    return task_lineage(db, task_id).as_json()


@router.get("/pools/{pool}/stats", summary="Pool statistics")
def get_stats(pool: PoolName, db: DB) -> dict[str, Any]:
    """Tasks by origin / classification / status, rejections, requests, tokens, cost."""
    return stats.pool_stats(db, repo.get_pool(db, pool)).as_json()


@router.get("/pools/{pool}/rounds", summary="Rounds of a pool")
def get_rounds(pool: PoolName, db: DB) -> list[dict[str, Any]]:
    """Every round of the pool, newest first."""
    return [r.as_json() for r in list_rounds(db, pool)]


@router.get("/rounds/{round_id}", summary="Round status")
def get_round(round_id: Id, db: DB) -> dict[str, Any]:
    """Where a round stands: admitted, complete, rejections by reason, requests, tokens, cost."""
    repo.get_round(db, round_id)
    return stats.round_counts(db, round_id).as_json()


@router.get("/pools/{pool}/export", summary="Download an export", response_class=FileResponse)
def get_export(
    f: Filter,
    db: DB,
    format: Format = "jsonl",
    provenance: bool = False,
    include_seeds: bool = False,
    seed: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    split: Annotated[float | None, Query(gt=0, lt=1, description="Train fraction: a .zip with both.")] = None,
) -> FileResponse:
    """The export as a file (``hf`` and splits as a .zip); defaults as the CLI: complete machine tasks."""
    from generator.export.exporter import ExportRequest, export_tasks

    defaults = TaskFilter(
        **{
            **f.__dict__,
            "origin": f.origin or (None if include_seeds else Origin.MACHINE),
            "statuses": f.statuses or (TaskStatus.COMPLETE,),
        }
    )
    suffix = {"alpaca": ".json", "parquet": ".parquet", "hf": ""}.get(format, ".jsonl")
    scratch = Path(tempfile.mkdtemp(prefix="selfinstruct-export-"))
    try:
        target = scratch / "out" / f"{defaults.pool}{suffix}"
        request = ExportRequest(
            format, str(target), provenance=provenance, train_fraction=split, seed=seed, pool=defaults.pool
        )
        ids = matching_ids(db, defaults) if split is not None else []
        export_tasks(iter_export_tasks(db, defaults), request, ids)
        if format == "hf" or split is not None:
            path = Path(shutil.make_archive(str(scratch / defaults.pool), "zip", scratch / "out"))
        else:
            path = target
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return FileResponse(path, filename=path.name, background=BackgroundTask(shutil.rmtree, scratch, True))
