"""Fleet round commands: ``round start|status|cancel``.

``round cancel`` and ``round status`` touch only the database (and Redis for the fleet's
heartbeats): neither imports Celery or kombu.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.fleet import MAX_ID, SteerOpt, check_deadline, console, parse_deadline, start_fleet_round
from generator.steering.params import Strategy

round_app = typer.Typer(help="Fleet rounds (run by `selfinstruct worker`s).", no_args_is_help=True)
RoundId = Annotated[int, typer.Argument(help="Round id.", min=1, max=MAX_ID)]


@round_app.command("start")
def round_start(
    instructions: Annotated[int, typer.Option("--instructions", "-n", min=1, help="Instructions.")],
    pool: Annotated[str, typer.Option("--pool", help="Pool name.")] = "default",
    budget_tokens: Annotated[int | None, typer.Option("--budget-tokens", min=1)] = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", help="ISO 8601; naive = local.", callback=check_deadline)] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id": ...}.')] = False,
    steer: SteerOpt = Strategy.NONE,
    tag: Annotated[bool, typer.Option(
        "--tag", help="Tag each task (InsTag) once complete; the round is done when all are.")] = False,
) -> None:
    """Enqueue a round on the fleet and print its id; it ends at N, its budget or its deadline."""
    from generator.settings import load_settings
    from generator.steering.params import SteeringParams
    from workers.stall import beat_warning

    moment = parse_deadline(deadline)
    settings = load_settings()
    round_id = start_fleet_round(settings, pool, instructions, budget_tokens, moment, SteeringParams(steer),
                                 tag=tag)
    typer.echo(json.dumps({"id": round_id}) if as_json else f"round {round_id} started")
    if (warning := beat_warning(settings)) is not None:
        console.print(f"[yellow]warning: {warning}[/]")


@round_app.command("status")
def round_status(round_id: RoundId, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
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
def round_cancel(round_id: RoundId) -> None:
    """Cancel a running round; its queued work is dropped, its results so far are kept."""
    from generator.rounds.ending import cancel_round
    from generator.settings import load_settings
    from generator.wiring import sessions_for

    cancel_round(sessions_for(load_settings()), round_id)
    console.print(f"round {round_id} cancelled")


def register(app: typer.Typer) -> None:
    """Add ``round start|status|cancel`` to ``app``."""
    app.add_typer(round_app, name="round")
