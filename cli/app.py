"""The ``selfinstruct`` command: generation, seeds, pool queries, export, database.

Heavy modules (SQLAlchemy, openai, numpy, Celery, pyarrow...) are imported inside the commands
that need them, so ``--help`` and the query commands start fast (tests/cli/test_startup.py).
"""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from cli.failures import describe_failure
from cli.output import console, fail, interrupt_said, say_interrupted

app = typer.Typer(help="Self-Instruct synthetic instruction data generator.", no_args_is_help=True)
seeds_app = typer.Typer(help="Seed tasks.", no_args_is_help=True)
pool_app = typer.Typer(help="Query the task pool.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(seeds_app, name="seeds")
app.add_typer(pool_app, name="pool")
app.add_typer(db_app, name="db")
PoolOpt = Annotated[str, typer.Option("--pool", help="Pool name.")]


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
    from cli.reads import pool_stats as read_stats
    from generator.settings import load_settings

    data = read_stats(load_settings(), pool).as_json()
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


# The module that registers each top-level command; ``seeds``, ``pool stats`` and ``db`` live here.
# main() imports and registers only what the command line names, so `selfinstruct pool stats`
# neither imports nor builds the options of the other thirty commands (bench/startup.py); --help,
# completion and anything unknown register them all.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "generate": ("generate",),
    "novelty": ("novelty",), "dedup": ("novelty",), "decontaminate": ("novelty",),
    "round": ("fleet",), "worker": ("fleet",), "beat": ("fleet",),
    "pool": ("query",), "export": ("query",), "serve": ("query",),
    "quality": ("analysis",), "report": ("analysis",),
    "tag": ("instag",), "diversity": ("instag",), "select": ("instag",), "tags": ("instag",),
    "seeds": (), "db": (),
}
MODULES = ("generate", "novelty", "fleet", "query", "analysis", "instag")
_registered: set[str] = set()


def register_module(name: str, into: typer.Typer = app, pool: typer.Typer = pool_app) -> None:
    """Add the commands of ``cli.<name>`` to ``into`` (its pool subcommands to ``pool``)."""
    module = importlib.import_module(f"cli.{name}")
    if name == "query":
        module.register(into, pool)
    else:
        module.register(into)


def register_commands(argv: Sequence[str]) -> None:
    """Register what ``argv`` can run: the named command's module, or every module (idempotent)."""
    name = next((arg for arg in argv if not arg.startswith("-")), None)
    for module in COMMAND_MODULES.get(name, MODULES) if name else MODULES:
        if module not in _registered:
            _registered.add(module)
            register_module(module)


def main() -> None:
    """Console-script entry point: our errors print one clear line and exit with code 2."""
    import click

    from generator.errors import SelfInstructError

    try:
        register_commands(sys.argv[1:])
        result = app(standalone_mode=False)
    except SelfInstructError as exc:
        fail(str(exc))
    except OSError as exc:  # a file the user named cannot be read or written
        fail(f"{exc.filename or ''}: {exc.strerror or exc}")
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
        fail(failure)
    if result == 130:
        # Leaving anyway: one more Ctrl-C during interpreter shutdown (which restores the default
        # handler) would otherwise end the process by the signal instead of with exit code 130.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if not interrupt_said():  # Typer turns Ctrl-C into a silent exit code 130
            say_interrupted("interrupted")
    sys.exit(result if isinstance(result, int) else 0)
