"""Fleet commands: ``round start|status|cancel``, ``worker``, ``beat``; and ``generate`` on a fleet.

Celery and :mod:`workers` are imported inside the commands only, so the library (and every
command that does not need the fleet) never imports Celery.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from generator.db.stats import RoundCounts
    from generator.settings import Settings
from generator.steering.params import Strategy  # light: stdlib only, like the option it defines
from workers.queues import DEFAULT_WORKER_QUEUES

if TYPE_CHECKING:
    from generator.steering.params import SteeringParams

SteerOpt = Annotated[Strategy, typer.Option(
    "--steer", help="Coverage steering: none (the plain loop) | rare-examples | tag-hints.")]

console = Console(stderr=True, soft_wrap=True)
MAX_ID = 2**63 - 1  # row ids are 64-bit at most
DEFAULT_QUEUES = ",".join(DEFAULT_WORKER_QUEUES)
FOLLOW_POLL_S = 0.5


def _require_broker(settings: Settings) -> None:
    from generator.errors import ConfigError

    if settings.broker_url is None:
        raise ConfigError("this command needs SELFINSTRUCT_BROKER_URL (e.g. redis://127.0.0.1:6379/0)")


def parse_deadline(value: str | None) -> datetime | None:
    """An ISO 8601 moment; without a UTC offset it is taken as local time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date-time (e.g. 2030-01-31T18:00)") from None
    return moment if moment.tzinfo else moment.astimezone()


def check_deadline(value: str | None) -> str | None:
    parse_deadline(value)  # a bad value stops the command while parsing (usage error, exit code 2)
    return value


def start_fleet_round(
    settings: Settings,
    pool: str,
    instructions: int,
    budget_tokens: int | None = None,
    deadline: datetime | None = None,
    steering: SteeringParams | None = None,
) -> int:
    """Create (and seed) the pool if needed, open a fleet round and enqueue its first tick."""
    from generator.wiring import ensure_seeded_pool, sessions_for

    _require_broker(settings)
    with sessions_for(settings).begin() as session:  # also migrates a new database
        pool_id = ensure_seeded_pool(session, settings, pool).id
    from workers import control
    from workers.context import current

    wc = current()
    return control.start_round(wc, pool_id, instructions, budget_tokens=budget_tokens, deadline=deadline,
                               steering=steering)


def follow_round(settings: Settings, round_id: int, target: int) -> RoundCounts:
    """Show the round's progress until it ends, ticking it every ``fleet_tick_s`` (no beat needed)."""
    from cli.progress import RoundProgress
    from generator.db import stats
    from generator.wiring import sessions_for
    from workers import control
    from workers.context import current

    sessions = sessions_for(settings)
    last_tick = 0.0
    with RoundProgress(console, target) as bar:
        while True:
            if time.monotonic() - last_tick >= settings.fleet_tick_s:
                last_tick = time.monotonic()
                with control.best_effort("tick"):
                    control.tick(current(), round_id)
            with sessions() as session:
                counts = stats.round_counts(session, round_id)
            bar(counts)
            if counts.status != "running":
                return counts
            time.sleep(FOLLOW_POLL_S)


def generate_on_fleet(settings: Settings, pool: str, instructions: int, budget_tokens: int | None = None,
                      deadline: datetime | None = None, steering: SteeringParams | None = None) -> None:
    """``selfinstruct generate`` with a broker: start (or resume following) a fleet round, follow it."""
    from cli.progress import describe
    from generator.db import repository as repo
    from generator.wiring import ensure_seeded_pool, sessions_for

    sessions = sessions_for(settings)
    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        running = repo.running_round(session, pool_row.id, mode="fleet")
        resumed = (running.id, running.target) if running is not None else None
    if resumed is not None:
        round_id, target = resumed
        console.print(f"following running fleet round {round_id} (target {target})")
    else:
        round_id = start_fleet_round(settings, pool, instructions, budget_tokens, deadline, steering)
        target = instructions
        console.print(f"fleet round {round_id} started (target {target})")
    try:
        counts = follow_round(settings, round_id, target)
    except KeyboardInterrupt:
        console.print(
            f"[yellow]round {round_id} keeps running on the fleet: `selfinstruct round status "
            f"{round_id}`, `selfinstruct round cancel {round_id}`[/]"
        )
        raise typer.Exit(130) from None
    console.print(f"round {round_id} {counts.status} ({counts.end_reason}): {describe(counts)}")
    if counts.status == "failed":
        console.print(f"[red]round {round_id} failed: {counts.error}[/]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the fleet commands to ``app``: ``round start|status|cancel``, ``worker``, ``beat``."""
    _register_rounds(app)
    _register_processes(app)


def _register_rounds(app: typer.Typer) -> None:
    round_app = typer.Typer(help="Fleet rounds (run by `selfinstruct worker`s).", no_args_is_help=True)
    app.add_typer(round_app, name="round")

    @round_app.command("start")
    def round_start(
        instructions: Annotated[int, typer.Option("--instructions", "-n", min=1, help="Instructions.")],
        pool: Annotated[str, typer.Option("--pool", help="Pool name.")] = "default",
        budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1)] = None,
        deadline: Annotated[str | None, typer.Option(
            "--deadline", help="ISO 8601; naive = local.", callback=check_deadline)] = None,
        as_json: Annotated[bool, typer.Option("--json", help='Print {"id": ...}.')] = False,
        steer: SteerOpt = Strategy.NONE,
    ) -> None:
        """Enqueue a round on the fleet and print its id; it ends at N, its budget or its deadline."""
        from generator.settings import load_settings
        from generator.steering.params import SteeringParams

        moment = parse_deadline(deadline)
        settings = load_settings()
        round_id = start_fleet_round(settings, pool, instructions, budget_tokens, moment,
                                     SteeringParams(steer))
        typer.echo(json.dumps({"id": round_id}) if as_json else f"round {round_id} started")
        from workers.stall import beat_warning

        if (warning := beat_warning(settings)) is not None:
            console.print(f"[yellow]warning: {warning}[/]")

    @round_app.command("status")
    def round_status(
        round_id: Annotated[int, typer.Argument(help="Round id.", min=1, max=MAX_ID)],
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        """Status (running|completed|failed|cancelled), admitted, rejections, requests, tokens, cost, rate;
        for a fleet round also pending work by stage and its age, leases, beat/tick heartbeats, diagnosis."""
        from cli.progress import print_mapping
        from generator.db import repository as repo
        from generator.db import stats
        from generator.settings import load_settings
        from generator.wiring import sessions_for
        from workers.stall import fleet_status  # Redis only: no Celery import

        settings = load_settings()
        with sessions_for(settings)() as session:
            repo.get_round(session, round_id)
            data = {"id": round_id, **stats.round_counts(session, round_id).as_json()}
            data |= fleet_status(settings, session, round_id)
        print_mapping(f"round {round_id}", data, as_json, indent=None)

    @round_app.command("cancel")
    def round_cancel(
        round_id: Annotated[int, typer.Argument(help="Round id.", min=1, max=MAX_ID)],
    ) -> None:
        """Cancel a running round; its queued work is dropped, its results so far are kept."""
        from generator.rounds.ending import cancel_round
        from generator.settings import load_settings
        from generator.wiring import sessions_for

        cancel_round(sessions_for(load_settings()), round_id)
        console.print(f"round {round_id} cancelled")


def _register_processes(app: typer.Typer) -> None:
    @app.command("worker")
    def worker(
        queues: Annotated[str, typer.Option("--queues", "-Q", help="Comma-separated.")] = DEFAULT_QUEUES,
        concurrency: Annotated[
            int | None,
            typer.Option(
                "--concurrency", "-c", min=1, help="Processes (default SELFINSTRUCT_LLM_CONCURRENCY)."
            ),
        ] = None,
        pool: Annotated[str, typer.Option("--pool", "-P", help="prefork | threads | solo")] = "prefork",
        hostname: Annotated[str | None, typer.Option("--hostname", "-n", help="Worker name.")] = None,
        loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "INFO",
    ) -> None:
        """Run a Celery worker of the fleet (same as `celery -A workers.app worker`).

        Without SELFINSTRUCT_LLM_BASE_URL it first starts the embedded model server for this node.
        """
        from generator.settings import load_settings

        settings = load_settings()
        _require_broker(settings)
        argv = [
            "worker",
            "-Q",
            queues,
            "-c",
            str(concurrency or settings.llm_concurrency),
            "-P",
            pool,
            "--loglevel",
            loglevel,
            "--without-mingle",
            "--without-gossip",
        ]
        argv += ["-n", hostname] if hostname else []
        with contextlib.ExitStack() as stack:
            if settings.embedded:
                from generator.llm.embedded import EmbeddedServer

                server = stack.enter_context(EmbeddedServer(settings))
                # The worker's processes read their endpoint from the environment, like any worker.
                os.environ["SELFINSTRUCT_LLM_BASE_URL"] = server.base_url
                os.environ["SELFINSTRUCT_LLM_MODEL"] = server.model
            from workers.app import app as celery_app

            celery_app.worker_main(argv)

    @app.command("beat")
    def beat(
        schedule: Annotated[Path | None, typer.Option("--schedule", help="YAML/JSON schedule file.")] = None,
        schedule_db: Annotated[Path, typer.Option("--schedule-db", help="Beat's state file.")] = Path(
            "celerybeat-schedule"
        ),
        loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "INFO",
    ) -> None:
        """Run the scheduler: ticks running rounds, starts the schedule file's rounds. Run exactly one."""
        from generator.settings import load_settings

        settings = load_settings()
        _require_broker(settings)
        from workers.app import app as celery_app
        from workers.schedule import beat_schedule

        celery_app.conf.beat_schedule = beat_schedule(settings, schedule)
        celery_app.start(["beat", "-s", str(schedule_db), "--loglevel", loglevel])
