"""The ``selfinstruct`` command: generation, seeds, pool queries, export, database."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from threading import Event
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli import fleet, novelty, query

if TYPE_CHECKING:
    pass

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
) -> None:
    """Run one round in-process until N new instructions are admitted, classified and have instances.

    Interrupt it and run it again: it resumes the pool's unfinished round. With
    SELFINSTRUCT_BROKER_URL set, the round runs on the worker fleet and this command follows it.
    """
    from cli.progress import RoundProgress, describe
    from generator.db import repository as repo
    from generator.rounds.runner import RoundRunner
    from generator.settings import load_settings
    from generator.wiring import ensure_seeded_pool, params_of, sessions_for, step_context

    settings = load_settings()
    if settings.broker_url is not None:
        from cli.fleet import generate_on_fleet

        generate_on_fleet(settings, pool, instructions)
        return
    sessions = sessions_for(settings)
    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        params = params_of(pool_row)
        rnd = repo.running_round(session, pool_row.id)
        if rnd is None:
            rnd = repo.open_round(session, pool_row, instructions)
        else:
            console.print(f"resuming round {rnd.id} (target {rnd.target})")
        round_id, target = rnd.id, rnd.target
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
    from generator.db import repository as repo
    from generator.selfinstruct.seeds import load_seed_tasks
    from generator.settings import load_settings
    from generator.wiring import sessions_for

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
    from cli.progress import print_mapping
    from generator.db import repository as repo
    from generator.db import stats
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    sessions = sessions_for(load_settings())
    with sessions() as session:
        data = stats.pool_stats(session, repo.get_pool(session, pool))
    print_mapping(f"pool {pool}", data, as_json)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Migrate the database schema up (to head by default)."""
    from generator.db.engine import make_engine, upgrade
    from generator.settings import load_settings

    settings = load_settings()
    upgrade(make_engine(settings.database_url), revision)
    console.print(f"database at {revision}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()]) -> None:
    """Migrate the database schema down to REVISION (``base`` drops everything)."""
    from generator.db.engine import downgrade, make_engine
    from generator.settings import load_settings

    downgrade(make_engine(load_settings().database_url), revision)
    console.print(f"database at {revision}")


query.register(app, pool_app)
novelty.register(app)
fleet.register(app)


def main() -> None:
    """Console-script entry point: our errors print one clear line and exit with code 2."""
    import click

    from generator.errors import SelfInstructError

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
