"""Fleet process commands: ``worker`` (a Celery worker, with the embedded model when no endpoint is
set) and ``beat`` (the scheduler)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Annotated

import typer

from cli.fleet import require_broker
from workers.queues import DEFAULT_WORKER_QUEUES

DEFAULT_QUEUES = ",".join(DEFAULT_WORKER_QUEUES)


def worker(
    queues: Annotated[str, typer.Option("--queues", "-Q", help="Comma-separated.")] = DEFAULT_QUEUES,
    concurrency: Annotated[int | None, typer.Option(
        "--concurrency", "-c", min=1, help="Processes (default SELFINSTRUCT_LLM_CONCURRENCY).")] = None,
    pool: Annotated[str, typer.Option("--pool", "-P", help="prefork | threads | solo")] = "prefork",
    hostname: Annotated[str | None, typer.Option("--hostname", "-n", help="Worker name.")] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "INFO",
) -> None:
    """Run a Celery worker of the fleet (same as `celery -A workers.app worker`).

    Without SELFINSTRUCT_LLM_BASE_URL it first starts the embedded model server for this node.
    """
    from generator.settings import load_settings

    settings = load_settings()
    require_broker(settings)
    argv = ["worker", "-Q", queues, "-c", str(concurrency or settings.llm_concurrency), "-P", pool,
            "--loglevel", loglevel, "--without-mingle", "--without-gossip"]
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


def beat(
    schedule: Annotated[Path | None, typer.Option("--schedule", help="YAML/JSON schedule file.")] = None,
    schedule_db: Annotated[Path, typer.Option("--schedule-db", help="Beat's state file.")] = Path(
        "celerybeat-schedule"),
    loglevel: Annotated[str, typer.Option("--loglevel", "-l")] = "INFO",
) -> None:
    """Run the scheduler: ticks running rounds, starts the schedule file's rounds and re-normalizes its
    pools' tags. Run exactly one."""
    from generator.settings import load_settings

    settings = load_settings()
    require_broker(settings)
    from workers.app import app as celery_app
    from workers.schedule import beat_schedule

    celery_app.conf.beat_schedule = beat_schedule(settings, schedule)
    celery_app.start(["beat", "-s", str(schedule_db), "--loglevel", loglevel])


def register(app: typer.Typer) -> None:
    """Add ``worker`` and ``beat`` to ``app``."""
    app.command("worker")(worker)
    app.command("beat")(beat)
