"""The ``selfinstruct`` command: generation, seeds, pool queries, export, database."""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Event
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from cli import fleet, novelty
from cli.progress import RoundProgress, describe, print_mapping
from generator.db import repository as repo
from generator.db import stats
from generator.db.readmodels import TaskView
from generator.db.stats import RoundCounts
from generator.db.statuses import RoundStatus
from generator.errors import SelfInstructError
from generator.files.textio import write_json_atomic
from generator.rounds.runner import RoundRunner
from generator.selfinstruct.params import GenerationParams
from generator.selfinstruct.seeds import load_seed_tasks
from generator.settings import Settings, load_settings
from generator.wiring import ensure_seeded_pool, params_of, sessions_for, step_context

app = typer.Typer(help="Self-Instruct synthetic instruction data generator.", no_args_is_help=True)
seeds_app = typer.Typer(help="Seed tasks.", no_args_is_help=True)
pool_app = typer.Typer(help="Query the task pool.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(seeds_app, name="seeds")
app.add_typer(pool_app, name="pool")
app.add_typer(db_app, name="db")
console = Console(stderr=True)
PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]


@app.command()
def generate(
    instructions: Annotated[
        int, typer.Option("--instructions", "-n", min=1, help="New instructions to complete.")
    ],
    pool: PoolOpt = "default",
    seed: Annotated[int | None, typer.Option(help="Random seed for prompt sampling.")] = None,
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1,
                                                      help="Stop the round after this many tokens.")] = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", help="Stop the round at this ISO 8601 moment; naive = local.",
        callback=fleet.check_deadline)] = None,
) -> None:
    """Run one round in-process until N new instructions are admitted, classified and have instances.

    Interrupt it (or let it fail) and run it again: it resumes the pool's unfinished round. With
    SELFINSTRUCT_BROKER_URL set, the round runs on the worker fleet and this command follows it.
    """
    settings = load_settings()
    limits = RoundLimits(budget_tokens, fleet.parse_deadline(deadline))
    if settings.broker_url is not None:
        fleet.generate_on_fleet(settings, pool, instructions, limits.budget_tokens, limits.deadline)
        return
    sessions = sessions_for(settings)
    round_id, target, params = _open_or_resume(settings, sessions, pool, instructions, limits)
    stop = Event()
    with step_context(settings, params, sessions, seed) as ctx:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with RoundProgress(console, target) as bar:
            try:
                counts = RoundRunner(ctx, progress=bar, stop=stop).run(round_id)
            except KeyboardInterrupt:
                stop.set()
                console.print("[yellow]interrupted: run the same command again to resume[/]")
                raise typer.Exit(130) from None
    _report_end(round_id, counts, stop.is_set())


@dataclass(frozen=True)
class RoundLimits:
    """What may end an in-process round before its target."""

    budget_tokens: int | None = None
    deadline: datetime | None = None


def _open_or_resume(settings: Settings, sessions: sessionmaker[Session], pool: str, instructions: int,
                    limits: RoundLimits) -> tuple[int, int, GenerationParams]:
    """The round to run: the pool's unfinished (or failed) in-process round, else a new one."""
    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        rnd = repo.resumable_round(session, pool_row.id)
        if rnd is None:
            rnd = repo.open_round(session, pool_row, instructions, budget_tokens=limits.budget_tokens,
                                  deadline=limits.deadline)
        else:
            verb = "resuming failed" if rnd.status == RoundStatus.FAILED else "resuming"
            console.print(f"{verb} round {rnd.id} (target {rnd.target})")
            repo.reopen_round(session, rnd)
        return rnd.id, rnd.target, params_of(pool_row)


def _report_end(round_id: int, counts: RoundCounts, stopped: bool) -> None:
    """Print how the round ended; exit 1 when it failed (with its cause), 130 when it was stopped."""
    console.print(f"round {round_id} {counts.status} ({counts.end_reason}): {describe(counts)}")
    if counts.status == RoundStatus.FAILED:
        console.print(f"[red]round {round_id} failed: {counts.error}[/]")
        console.print("fix the cause and run the same command again to resume it")
        raise typer.Exit(1)
    if stopped:
        raise typer.Exit(130)


@seeds_app.command("load")
def seeds_load(
    file: Annotated[Path | None, typer.Argument(help="Seed file (default: the project's seeds).")] = None,
    pool: PoolOpt = "default",
) -> None:
    """Load seed tasks (original self-instruct schema) into a pool; all or nothing."""
    settings = load_settings()
    path = file or settings.seeds_path
    tasks = load_seed_tasks(path)
    sessions = sessions_for(settings)
    with sessions.begin() as session:
        pool_row = repo.ensure_pool(session, pool, GenerationParams(), seed_source=str(path))
        added = repo.add_seed_tasks(session, pool_row, tasks)
    console.print(f"loaded {added} new seed tasks into pool {pool!r} ({len(tasks) - added} already there)")


@pool_app.command("stats")
def pool_stats(pool: PoolOpt = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Tasks by origin, classification and status; rejection reasons; requests and tokens."""
    sessions = sessions_for(load_settings())
    with sessions() as session:
        data = stats.pool_stats(session, repo.get_pool(session, pool)).as_json()
    print_mapping(f"pool {pool}", data, as_json)


@pool_app.command("list")
def pool_list(
    pool: PoolOpt = "default",
    origin: Annotated[str | None, typer.Option(help="seed | machine")] = None,
    status: Annotated[str | None, typer.Option(help="complete | no_instances | pending_*")] = None,
    classification: Annotated[bool | None, typer.Option("--classification/--no-classification")] = None,
    round_id: Annotated[int | None, typer.Option("--round")] = None,
    contains: Annotated[str | None, typer.Option(help="Substring of the instruction.")] = None,
    limit: Annotated[int | None, typer.Option(min=1)] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List pool tasks with filters."""
    sessions = sessions_for(load_settings())
    with sessions() as session:
        rows = stats.list_tasks(
            session,
            repo.get_pool(session, pool),
            origin=origin,
            status=status,
            classification=classification,
            round_id=round_id,
            contains=contains,
            limit=limit,
        )
        out = [TaskView.of(t).as_json() for t in rows]
    if as_json:
        for row in out:
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("id", "origin", "status", "cls", "instances", "nearest", "instruction")
    for row in out:
        near = f"{row['nearest_score']:.2f}" if row["nearest_score"] is not None else ""
        table.add_row(
            str(row["id"]),
            row["origin"],
            row["status"],
            str(row["is_classification"]),
            str(len(row["instances"])),
            near,
            row["instruction"],
        )
    Console().print(table)


@app.command()
def export(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    fmt: Annotated[str, typer.Option("--format", help="alpaca")] = "alpaca",
    pool: PoolOpt = "default",
    include_seeds: Annotated[bool, typer.Option("--include-seeds")] = False,
) -> None:
    """Export instances as an Alpaca JSON list of {instruction, input, output}."""
    if fmt != "alpaca":
        raise SelfInstructError(f"--format {fmt!r} is not supported (supported: alpaca)")
    sessions = sessions_for(load_settings())
    with sessions() as session:
        rows = stats.alpaca_rows(
            session, repo.get_pool(session, pool), origin=None if include_seeds else "machine"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(output, rows)
    console.print(f"wrote {len(rows)} instances to {output}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database schema up (to head by default)."""
    from generator.db.engine import make_engine, upgrade

    settings = load_settings()
    upgrade(make_engine(settings.database_url), revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Migrate the database schema down to REVISION (``base`` drops everything)."""
    from generator.db.engine import downgrade, make_engine

    downgrade(make_engine(load_settings().database_url), revision)
    console.print(f"database at {revision}")


novelty.register(app)
fleet.register(app)


def main() -> None:
    """Console-script entry point: our errors print one clear line and exit with code 2."""
    import click

    try:
        result = app(standalone_mode=False)
    except SelfInstructError as exc:
        console.print(f"[red]error:[/] {exc}", soft_wrap=True)
        sys.exit(2)
    except OSError as exc:  # a file the user named cannot be read or written
        console.print(f"[red]error:[/] {exc.filename or ''}: {exc.strerror or exc}", soft_wrap=True)
        sys.exit(2)
    except (click.ClickException, typer.exceptions.TyperException) as exc:
        # Typer >= 0.2x raises the errors of the click it vendors: TyperExceptions, not click's.
        message = str(exc)
        getattr(exc, "show", lambda: console.print(f"[red]error:[/] {message}"))()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)
