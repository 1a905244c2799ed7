"""``selfinstruct generate``: one round in-process (resumable), or on the fleet when a broker is set."""

from __future__ import annotations

import signal
from dataclasses import dataclass
from datetime import datetime
from threading import Event
from typing import TYPE_CHECKING, Annotated

import typer

from cli import fleet
from cli.output import console, say_interrupted
from generator.steering.params import Strategy

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from generator.db.stats import RoundCounts
    from generator.selfinstruct.params import GenerationParams
    from generator.settings import Settings
    from generator.steering.params import SteeringParams

__all__ = ["RoundLimits", "generate", "register"]

PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]
# The paper grew 52K instructions; a million is far beyond any round worth running in one go.
MAX_INSTRUCTIONS = 1_000_000


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
    tag: Annotated[bool, typer.Option(
        "--tag", help="Tag each task (InsTag) once complete; the round is done when all are.")] = False,
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
    from generator.steps.classification import classify_per_prompt as checked
    from generator.wiring import sessions_for

    settings = load_settings()
    if classify_per_prompt is not None:
        settings = settings.model_copy(update={"classify_per_prompt": classify_per_prompt})
    checked(settings)  # here, so a refusal (a base model without a measured agreement) comes before any work
    limits = RoundLimits(budget_tokens, fleet.parse_deadline(deadline), SteeringParams(steer), tag)
    if settings.broker_url is not None:
        fleet.generate_on_fleet(settings, pool, instructions, limits.budget_tokens, limits.deadline,
                                limits.steering, limits.tag)
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

    stop = Event()

    def interrupt(*_: object) -> None:
        if stop.is_set():  # already stopping (now a matter of a second): a second Ctrl-C must not
            return         # break the cleanup halfway with another KeyboardInterrupt
        stop.set()  # first, so threads in a backoff wait or an answer wait return at once
        raise KeyboardInterrupt

    # Installed before the round is opened: a Ctrl-C while the steps load must still stop the round.
    # The stop is what counts: a KeyboardInterrupt raised inside a gc callback is swallowed by Python.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, interrupt)
    round_id, target, params = _open_or_resume(settings, sessions, pool, instructions, limits)
    with (step_context(settings, params, sessions, seed, stop=stop) as ctx,
          RoundProgress(console, target) as bar):
        try:
            counts = RoundRunner(ctx, progress=bar, stop=stop).run(round_id)
        except KeyboardInterrupt:
            stop.set()
            say_interrupted("interrupted: run the same command again to resume")
            raise typer.Exit(130) from None
    _report_end(round_id, counts, stop.is_set())


@dataclass(frozen=True)
class RoundLimits:
    """What may end an in-process round before its target."""

    budget_tokens: int | None = None
    deadline: datetime | None = None
    steering: SteeringParams | None = None
    tag: bool = False  # tag each task once complete (InsTag); the round is done when all are


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
                                  deadline=limits.deadline, steering=steering, tag=limits.tag)
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


def register(app: typer.Typer) -> None:
    """Add ``generate`` to ``app``."""
    app.command()(generate)
