"""`selfinstruct <command>` registers only the module that defines the command, and none is missed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer
import typer.main

from cli.app import COMMAND_MODULES, MODULES, register_module

REPO = Path(__file__).resolve().parents[2]
HERE = {"seeds", "pool", "db"}  # defined in cli/app.py itself


def _commands(modules: tuple[str, ...]) -> tuple[set[str], set[str]]:
    app, pool = typer.Typer(), typer.Typer()
    app.add_typer(pool, name="pool")

    @app.command("placeholder")
    def placeholder() -> None:  # a group needs two commands for typer to keep names
        """Placeholder."""

    @pool.command("stats")
    def stats() -> None:
        """Pool stats."""

    for module in modules:
        register_module(module, app, pool)
    group = typer.main.get_command(app)
    pool_group = group.commands["pool"]  # type: ignore[attr-defined]
    return set(group.commands) - {"placeholder"}, set(pool_group.commands)  # type: ignore[attr-defined]


def test_every_top_level_command_is_mapped_to_the_module_that_registers_it() -> None:
    everything, _ = _commands(MODULES)
    assert everything - {"pool"} <= set(COMMAND_MODULES)
    for name, modules in COMMAND_MODULES.items():
        if name in HERE:
            continue
        found, _ = _commands(modules)
        assert name in found, (name, modules)


def test_the_pool_group_gets_its_list_and_show_subcommands_from_the_query_module() -> None:
    _, pool = _commands(COMMAND_MODULES["pool"])
    assert {"stats", "list", "show"} <= pool


def test_help_lists_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "cli", "--help"], capture_output=True, text=True, check=True,
                         cwd=REPO, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"}).stdout
    for name in COMMAND_MODULES:
        assert f" {name} " in out, name
