"""The ``selfinstruct`` command: generation, seeds, pool queries, export, database.

Heavy modules (SQLAlchemy, openai, numpy, Celery, pyarrow...) are imported inside the commands
that need them, so ``--help`` and the query commands start fast (tests/cli/test_startup.py).
"""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Event
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli import analysis, fleet, instag, novelty, query
from generator.steering.params import Strategy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from generator.db.stats import RoundCounts
    from generator.selfinstruct.params import GenerationParams
    from generator.settings import Settings
    from generator.steering.params import SteeringParams

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
    steer: fleet.SteerOpt = Strategy.NONE,
) -> None:
    """Run one round in-process until N new instructions are admitted, classified and have instances.

    Interrupt it (or let it fail) and run it again: it resumes the pool's unfinished round (with the
    steering it was started with). ``--steer`` aims the prompts at what the pool's tags cover least. With
    SELFINSTRUCT_BROKER_URL set, the round runs on the worker fleet and this command follows it.
    """
    from cli.progress import RoundProgress
    from generator.rounds.runner import RoundRunner
    from generator.settings import load_settings
    from generator.steering.params import SteeringParams
    from generator.wiring import sessions_for, step_context

    settings = load_settings()
    limits = RoundLimits(budget_tokens, fleet.parse_deadline(deadline), SteeringParams(steer))
    if settings.broker_url is not None:
        fleet.generate_on_fleet(settings, pool, instructions, limits.budget_tokens, limits.deadline,
                                limits.steering)
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
    steering: SteeringParams | None = None


def _open_or_resume(settings: Settings, sessions: sessionmaker[Session], pool: str, instructions: int,
                    limits: RoundLimits) -> tuple[int, int, GenerationParams]:
    """The round to run: the pool's unfinished (or failed) in-process round, else a new one."""
    from generator.db import repository as repo
    from generator.db.statuses import RoundStatus
    from generator.steering.params import SteeringParams
    from generator.wiring import ensure_seeded_pool, params_of

    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        rnd = repo.resumable_round(session, pool_row.id)
        if rnd is None:
            steering = SteeringParams.round_json(limits.steering)
            rnd = repo.open_round(session, pool_row, instructions, budget_tokens=limits.budget_tokens,
                                  deadline=limits.deadline, steering=steering)
        else:
            verb = "resuming failed" if rnd.status == RoundStatus.FAILED else "resuming"
            steer = SteeringParams.from_json(rnd.steering).strategy
            console.print(f"{verb} round {rnd.id} (target {rnd.target}, steer {steer})")
            repo.reopen_round(session, rnd)
        return rnd.id, rnd.target, params_of(pool_row)


def _report_end(round_id: int, counts: RoundCounts, stopped: bool) -> None:
    """Print how the round ended; exit 1 when it failed (with its cause), 130 when it was stopped."""
    from cli.progress import describe
    from generator.db.statuses import RoundStatus

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
    from generator.db import repository as repo
    from generator.selfinstruct.params import GenerationParams
    from generator.selfinstruct.seeds import load_seed_tasks
    from generator.settings import load_settings
    from generator.wiring import sessions_for

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
    from cli.progress import print_mapping
    from generator.db import repository as repo
    from generator.db import stats
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    sessions = sessions_for(load_settings())
    with sessions() as session:
        data = stats.pool_stats(session, repo.get_pool(session, pool)).as_json()
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


novelty.register(app)
fleet.register(app)
query.register(app, pool_app)
analysis.register(app)
instag.register(app)


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
