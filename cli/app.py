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
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from cli import analysis, fleet, instag, novelty, query
from cli.failures import describe_failure
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
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1,
                                                      help="Stop the round after this many tokens.")] = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", help="Stop the round at this ISO 8601 moment; naive = local.",
        callback=fleet.check_deadline)] = None,
    steer: fleet.SteerOpt = Strategy.NONE,
    classify_per_prompt: Annotated[int | None, typer.Option(
        "--classify-per-prompt", min=1, max=20,
        help="Tasks judged per classification prompt, JSON answer (chat models; default 1).")] = None,
) -> None:
    """Run one round in-process until N new instructions are admitted, classified and have instances.

    Interrupt it (or let it fail) and run it again: it resumes the pool's unfinished round (with the
    steering it was started with). ``--steer`` aims the prompts at what the pool's tags cover least. With
    SELFINSTRUCT_BROKER_URL set, the round runs on the worker fleet and this command follows it.
    """
    from generator.settings import load_settings
    from generator.steering.params import SteeringParams
    from generator.wiring import sessions_for

    settings = load_settings()
    from generator.steps.classification import classify_per_prompt as checked

    if classify_per_prompt is not None:
        settings = settings.model_copy(update={"classify_per_prompt": classify_per_prompt})
    checked(settings)  # here, so a refusal (a base model without a measured agreement) comes before any work
    limits = RoundLimits(budget_tokens, fleet.parse_deadline(deadline), SteeringParams(steer))
    if settings.broker_url is not None:
        fleet.generate_on_fleet(settings, pool, instructions, limits.budget_tokens, limits.deadline,
                                limits.steering)
        return
    sessions = sessions_for(settings)
    from generator.db.runner_lock import runner_lock

    with runner_lock(sessions.kw["bind"], pool):
        _run_in_process(settings, sessions, pool, instructions, seed, limits)


def _run_in_process(settings: Settings, sessions: sessionmaker[Session], pool: str, instructions: int,
                    seed: int | None, limits: RoundLimits) -> None:
    from cli.progress import RoundProgress
    from generator.rounds.runner import RoundRunner
    from generator.wiring import step_context

    round_id, target, params = _open_or_resume(settings, sessions, pool, instructions, limits)
    stop = Event()

    def interrupt(*_: object) -> None:
        stop.set()  # first, so threads in a backoff wait return at once
        raise KeyboardInterrupt

    with step_context(settings, params, sessions, seed, stop=stop) as ctx:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, interrupt)
        with RoundProgress(console, target) as bar:
            try:
                counts = RoundRunner(ctx, progress=bar, stop=stop).run(round_id)
            except KeyboardInterrupt:
                stop.set()
                _say_interrupted("interrupted: run the same command again to resume")
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
    from generator.db import resume
    from generator.db.statuses import RoundStatus
    from generator.steering.params import SteeringParams
    from generator.wiring import ensure_seeded_pool, params_of

    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        rnd = resume.resumable_round(session, pool_row.id)
        if rnd is None:
            steering = SteeringParams.round_json(limits.steering)
            rnd = repo.open_round(session, pool_row, instructions, budget_tokens=limits.budget_tokens,
                                  deadline=limits.deadline, steering=steering)
        else:
            verb = "resuming failed" if rnd.status == RoundStatus.FAILED else "resuming"
            steer = SteeringParams.from_json(rnd.steering).strategy
            console.print(f"{verb} round {rnd.id} (target {rnd.target}, steer {steer})")
            if instructions != rnd.target:
                console.print(f"[yellow]-n {instructions} ignored: round {rnd.id} keeps its target of "
                              f"{rnd.target} (cancel it to start a round with a new target)[/]")
            resume.reopen_round(session, rnd)
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
    from generator.db.urls import masked
    from generator.errors import SelfInstructError
    from generator.settings import load_settings

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
