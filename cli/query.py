"""Query commands: `pool list`, `pool show` and `export`, all on one TaskFilter.

Heavy modules (pyarrow, datasets, the database layer) are imported inside the commands, so
``selfinstruct --help`` does not pay for them.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from generator.db.taskfilter import TaskFilter

console = Console(stderr=True, soft_wrap=True)

PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]
RoundsOpt = Annotated[
    list[int] | None, typer.Option("--round", min=1, max=2**63 - 1, help="Round id (repeat for several).")
]
OriginOpt = Annotated[str | None, typer.Option(help="seed | machine")]
StatusOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--status", help="pending_classification | pending_instances | complete | no_instances (repeat)."
    ),
]
ClsOpt = Annotated[bool | None, typer.Option("--classification/--no-classification")]
InstOpt = Annotated[bool | None, typer.Option("--has-instances/--no-instances")]
TextOpt = Annotated[str | None, typer.Option("--contains", help="Literal, case-sensitive substring.")]
NearMinOpt = Annotated[float | None, typer.Option("--nearest-min", help="Lowest nearest ROUGE-L F1.")]
NearMaxOpt = Annotated[float | None, typer.Option("--nearest-max", help="Highest nearest ROUGE-L F1.")]
AfterOpt = Annotated[datetime | None, typer.Option("--created-after", help="ISO date/time (exclusive).")]
BeforeOpt = Annotated[datetime | None, typer.Option("--created-before", help="ISO date/time (exclusive).")]


def build_filter(
    pool: str,
    rounds: list[int] | None,
    origin: str | None,
    statuses: list[str] | None,
    classification: bool | None,
    has_instances: bool | None,
    contains: str | None,
    nearest_min: float | None,
    nearest_max: float | None,
    created_after: datetime | None,
    created_before: datetime | None,
) -> TaskFilter:
    """The TaskFilter of the command-line options (validated: bad values are one-line errors)."""
    from datetime import UTC

    from generator.db.taskfilter import TaskFilter

    def aware(moment: datetime | None) -> datetime | None:  # a date typed without a zone is UTC
        return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment

    created_after, created_before = aware(created_after), aware(created_before)
    return TaskFilter(
        pool=pool,
        rounds=tuple(rounds or ()),
        origin=origin,
        statuses=tuple(statuses or ()),
        classification=classification,
        has_instances=has_instances,
        text=contains,
        nearest_min=nearest_min,
        nearest_max=nearest_max,
        created_after=created_after,
        created_before=created_before,
    )


def _sessions() -> Any:
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    return sessions_for(load_settings())


LIST_COLUMNS = (
    "id",
    "origin",
    "round_id",
    "status",
    "is_classification",
    "instances",
    "nearest_score",
    "instruction",
)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in LIST_COLUMNS if k != "instances"}
    out["instances"] = len(row["instances"])
    return {k: out[k] for k in LIST_COLUMNS}


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table("id", "origin", "round", "status", "cls", "instances", "nearest", "instruction")
    for r in map(_flat, rows):
        near = f"{r['nearest_score']:.2f}" if r["nearest_score"] is not None else ""
        table.add_row(
            str(r["id"]),
            r["origin"],
            str(r["round_id"] or ""),
            r["status"],
            str(r["is_classification"]),
            str(r["instances"]),
            near,
            r["instruction"],
        )
    # Not a terminal: no 80-column cut, rows as wide as they need.
    out = Console() if sys.stdout.isatty() else Console(width=100_000, soft_wrap=True)
    out.print(table)


def pool_list(
    pool: PoolOpt = "default",
    rounds: RoundsOpt = None,
    origin: OriginOpt = None,
    status: StatusOpt = None,
    classification: ClsOpt = None,
    has_instances: InstOpt = None,
    contains: TextOpt = None,
    nearest_min: NearMinOpt = None,
    nearest_max: NearMaxOpt = None,
    created_after: AfterOpt = None,
    created_before: BeforeOpt = None,
    limit: Annotated[int | None, typer.Option(help="At most this many tasks.")] = None,
    offset: Annotated[int, typer.Option(help="Skip this many matching tasks.")] = 0,
    after_id: Annotated[
        int | None, typer.Option("--after-id", help="Only ids above this (keyset paging).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header row.")] = False,
) -> None:
    """List pool tasks matching the filters, in id order (table, --json lines or --csv)."""
    from cli.reads import listed_tasks
    from generator.db.taskfilter import Page
    from generator.settings import load_settings

    f = build_filter(
        pool,
        rounds,
        origin,
        status,
        classification,
        has_instances,
        contains,
        nearest_min,
        nearest_max,
        created_after,
        created_before,
    )
    page = Page(limit=limit, offset=offset, after_id=after_id)
    rows = [t.as_json() for t in listed_tasks(load_settings(), f, page)]
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(LIST_COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(map(_flat, rows))
    else:
        _print_table(rows)


def export(
    output: Annotated[str, typer.Option("--output", "-o", help="File or folder to write; - for stdout.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format", help="alpaca | jsonl | openai-chat | sharegpt | selfinstruct | parquet | hf"
        ),
    ] = "alpaca",
    pool: PoolOpt = "default",
    rounds: RoundsOpt = None,
    origin: OriginOpt = None,
    status: StatusOpt = None,
    classification: ClsOpt = None,
    contains: TextOpt = None,
    nearest_min: NearMinOpt = None,
    nearest_max: NearMaxOpt = None,
    created_after: AfterOpt = None,
    created_before: BeforeOpt = None,
    include_seeds: Annotated[
        bool, typer.Option("--include-seeds", help="Seeds too (default: machine).")
    ] = False,
    provenance: Annotated[
        bool, typer.Option("--provenance", help="Add round, model, nearest score.")
    ] = False,
    split: Annotated[float | None, typer.Option("--split", help="Train fraction, e.g. 0.9.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and the selfinstruct templates.")] = 0,
) -> None:
    """Export complete tasks (machine-made by default) in a fine-tuning format."""
    from generator.db.listing import iter_export_tasks, matching_ids
    from generator.db.statuses import Origin, TaskStatus
    from generator.export.exporter import ExportRequest, export_tasks

    origin = origin or (None if include_seeds else Origin.MACHINE)
    f = build_filter(pool, rounds, origin, status or [TaskStatus.COMPLETE], classification, None, contains,
                     nearest_min, nearest_max, created_after, created_before)
    request = ExportRequest(fmt, output, provenance=provenance, train_fraction=split, seed=seed, pool=pool,
                            filter_text=_describe(f))
    with _sessions()() as session:
        ids = matching_ids(session, f) if split is not None else []
        summary = export_tasks(iter_export_tasks(session, f), request, ids)
    rows = ", ".join(f"{n} {k}" for k, n in summary.rows.items())
    console.print(f"wrote {rows} rows ({summary.tasks} tasks) to {', '.join(summary.paths)}", highlight=False)


def _describe(f: TaskFilter) -> str:
    from dataclasses import fields

    parts = [f"{x.name}={getattr(f, x.name)!r}" for x in fields(f) if getattr(f, x.name) not in (None, ())]
    return ", ".join(parts)


def register(app: typer.Typer, pool_app: typer.Typer) -> None:
    """Add the query commands to the ``selfinstruct`` and ``selfinstruct pool`` groups."""
    pool_app.command("list")(pool_list)
    from cli.show import pool_show, serve

    pool_app.command("show")(pool_show)
    app.command("export")(export)
    app.command("serve")(serve)
