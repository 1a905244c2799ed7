"""The ``selfinstruct`` command: generation, seeds, pool queries, export, database."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from threading import Event
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from cli import fleet, novelty
from cli.failures import describe_failure
from cli.progress import RoundProgress, describe, print_mapping
from generator.db import repository as repo
from generator.db import stats
from generator.db.runner_lock import runner_lock
from generator.db.urls import masked
from generator.errors import SelfInstructError
from generator.files.textio import write_json_atomic
from generator.rounds.runner import RoundRunner
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
console = Console(stderr=True, soft_wrap=True)
PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]
# The paper grew 52K instructions; a million is far beyond any round worth running in one go.
MAX_INSTRUCTIONS = 1_000_000
MAX_ID = 2**63 - 1  # row ids are 64-bit at most


@app.command()
def generate(
    instructions: Annotated[
        int, typer.Option("--instructions", "-n", min=1, max=MAX_INSTRUCTIONS,
                          help=f"New instructions to complete (at most {MAX_INSTRUCTIONS:,}).")
    ],
    pool: PoolOpt = "default",
    seed: Annotated[int | None, typer.Option(help="Random seed for prompt sampling.")] = None,
) -> None:
    """Run one round in-process until N new instructions are admitted, classified and have instances.

    Interrupt it and run it again: it resumes the pool's unfinished round. With
    SELFINSTRUCT_BROKER_URL set, the round runs on the worker fleet and this command follows it.
    """
    settings = load_settings()
    if settings.broker_url is not None:
        from cli.fleet import generate_on_fleet

        generate_on_fleet(settings, pool, instructions)
        return
    sessions = sessions_for(settings)
    with runner_lock(sessions.kw["bind"], pool):
        _run_in_process(settings, sessions, pool, instructions, seed)


def _run_in_process(
    settings: Settings, sessions: sessionmaker[Session], pool: str, instructions: int, seed: int | None
) -> None:
    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        params = params_of(pool_row)
        rnd = repo.running_round(session, pool_row.id)
        if rnd is None:
            rnd = repo.open_round(session, pool_row, instructions)
        else:
            console.print(f"resuming round {rnd.id} (target {rnd.target})")
            if instructions != rnd.target:
                console.print(f"[yellow]-n {instructions} ignored: round {rnd.id} keeps its target of "
                              f"{rnd.target} (cancel it to start a round with a new target)[/]")
        round_id, target = rnd.id, rnd.target
    stop = Event()
    with step_context(settings, params, sessions, seed) as ctx:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with RoundProgress(console, target) as bar:
            try:
                counts = RoundRunner(ctx, progress=bar, stop=stop).run(round_id)
            except KeyboardInterrupt:
                stop.set()
                _say_interrupted("interrupted: run the same command again to resume")
                raise typer.Exit(130) from None
    console.print(f"round {round_id} {counts.status} ({counts.end_reason}): {describe(counts)}")
    if stop.is_set():
        raise typer.Exit(130)
    if counts.status == "failed":
        raise typer.Exit(1)


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
        from generator.selfinstruct.params import GenerationParams

        pool_row = repo.ensure_pool(session, pool, GenerationParams(), seed_source=str(path))
        added = repo.add_seed_tasks(session, pool_row, tasks)
    console.print(f"loaded {added} new seed tasks into pool {pool!r} ({len(tasks) - added} already there)")


@pool_app.command("stats")
def pool_stats(pool: PoolOpt = "default", as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Tasks by origin, classification and status; rejection reasons; requests and tokens."""
    sessions = sessions_for(load_settings())
    with sessions() as session:
        data = stats.pool_stats(session, repo.get_pool(session, pool))
    print_mapping(f"pool {pool}", data, as_json)


@pool_app.command("list")
def pool_list(
    pool: PoolOpt = "default",
    origin: Annotated[str | None, typer.Option(help="seed | machine")] = None,
    status: Annotated[str | None, typer.Option(help="complete | no_instances | pending_*")] = None,
    classification: Annotated[bool | None, typer.Option("--classification/--no-classification")] = None,
    round_id: Annotated[int | None, typer.Option("--round", min=1, max=MAX_ID)] = None,
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
        out: list[dict[str, Any]] = [
            {
                "id": t.id,
                "origin": t.origin,
                "round": t.round_id,
                "status": t.status,
                "is_classification": t.is_classification,
                "instruction": t.instruction,
                "nearest_task_id": t.nearest_task_id,
                "nearest_score": t.nearest_score,
                "instances": [{"input": i.input, "output": i.output} for i in t.instances],
            }
            for t in rows
        ]
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
    engine = make_engine(settings.database_url, connect_timeout_s=settings.database_connect_timeout_s)
    upgrade(engine, revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument()],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Migrate the database schema down to REVISION (``base`` drops everything: asks first)."""
    from generator.db.engine import downgrade, make_engine

    settings = load_settings()
    if revision == "base" and not yes:
        where = masked(settings.database_url)
        if not sys.stdin.isatty():
            raise SelfInstructError(f"`db downgrade base` drops every table of {where}: add --yes to confirm")
        if not typer.confirm(f"drop every table (tasks, instances, requests...) of {where}?"):
            console.print("nothing dropped")
            raise typer.Exit(1)
    engine = make_engine(settings.database_url, connect_timeout_s=settings.database_connect_timeout_s)
    downgrade(engine, revision)
    console.print(f"database at {revision}")


novelty.register(app)
fleet.register(app)


def main() -> None:
    """Console-script entry point: our errors print one clear line and exit with code 2."""
    import click

    try:
        result = app(standalone_mode=False)
    except SelfInstructError as exc:
        _fail(str(exc))
    except OSError as exc:  # a file the user named cannot be read or written
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}")
    except (click.ClickException, typer.exceptions.TyperException) as exc:
        # Typer >= 0.2x raises the errors of the click it vendors: TyperExceptions, not click's.
        message = str(exc)
        getattr(exc, "show", lambda: console.print(f"[red]error:[/] {message}"))()
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        result = 130
    except Exception as exc:
        failure = describe_failure(exc)
        if failure is None:
            raise
        _fail(failure)
    if result == 130 and not _interrupt_said:  # Typer turns Ctrl-C into a silent exit code 130
        _say_interrupted("interrupted")
    sys.exit(result if isinstance(result, int) else 0)


_interrupt_said: list[bool] = []


def _say_interrupted(message: str) -> None:
    """Print how the command was interrupted, once."""
    if not _interrupt_said:
        _interrupt_said.append(True)
        console.print(f"[yellow]{escape(message)}[/]")


def _fail(message: str) -> NoReturn:
    """Print ``error: message`` as one line (no markup read from it) and exit 2."""
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(2)
