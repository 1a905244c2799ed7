"""Fleet helpers shared by the fleet commands and ``generate`` on a fleet: start, follow, deadlines.

The commands themselves live in :mod:`cli.rounds` (``round start|status|cancel``) and
:mod:`cli.processes` (``worker``, ``beat``). Celery and :mod:`workers` are imported inside the
functions only, so the library (and every command that does not need the fleet) never imports Celery.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from generator.db.stats import RoundCounts
    from generator.settings import Settings
from generator.db.statuses import RoundMode, RoundStatus  # light: stdlib only
from generator.steering.params import Strategy  # light: stdlib only, like the option it defines

if TYPE_CHECKING:
    from generator.steering.params import SteeringParams

SteerOpt = Annotated[Strategy, typer.Option(
    "--steer", help="Coverage steering: none (the plain loop) | rare-examples | tag-hints.")]

console = Console(stderr=True, soft_wrap=True)
MAX_ID = 2**63 - 1  # row ids are 64-bit at most
FOLLOW_POLL_S = 0.5


def require_broker(settings: Settings) -> None:
    """ConfigError unless a broker is configured (the fleet's commands need one)."""
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
    tag: bool = False,
) -> int:
    """Create (and seed) the pool if needed, open a fleet round and enqueue its first tick.

    ``tag``: the round tags each task (InsTag) once it is complete (see workers.control)."""
    from generator.wiring import ensure_seeded_pool, sessions_for

    require_broker(settings)
    with sessions_for(settings).begin() as session:  # also migrates a new database
        pool_id = ensure_seeded_pool(session, settings, pool).id
    from workers import control
    from workers.context import current

    wc = current()
    return control.start_round(wc, pool_id, instructions, budget_tokens=budget_tokens, deadline=deadline,
                               steering=steering, tag=tag)


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
            if counts.status != RoundStatus.RUNNING:
                return counts
            time.sleep(FOLLOW_POLL_S)


def generate_on_fleet(settings: Settings, pool: str, instructions: int, budget_tokens: int | None = None,
                      deadline: datetime | None = None, steering: SteeringParams | None = None,
                      tag: bool = False) -> None:
    """``selfinstruct generate`` with a broker: start (or resume following) a fleet round, follow it."""
    from cli.progress import describe
    from generator.db import repository as repo
    from generator.wiring import ensure_seeded_pool, sessions_for

    sessions = sessions_for(settings)
    with sessions.begin() as session:
        pool_row = ensure_seeded_pool(session, settings, pool)
        running = repo.running_round(session, pool_row.id, mode=RoundMode.FLEET)
        resumed = (running.id, running.target) if running is not None else None
    if resumed is not None:
        round_id, target = resumed
        console.print(f"following running fleet round {round_id} (target {target})")
    else:
        round_id = start_fleet_round(settings, pool, instructions, budget_tokens, deadline, steering, tag)
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
    if counts.status == RoundStatus.FAILED:
        console.print(f"[red]round {round_id} failed: {counts.error}[/]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the fleet commands to ``app``: ``round start|status|cancel``, ``worker``, ``beat``."""
    from cli import processes, rounds

    rounds.register(app)
    processes.register(app)
