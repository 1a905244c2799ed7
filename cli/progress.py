"""Rich rendering of round progress and statistics."""

from __future__ import annotations

import json
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:  # the ORM (and rich's progress bars) stay out of `pool stats` (generator/db/plain)
    from generator.db.stats import RoundCounts


# Where output is not a terminal (a pipe, a file), nothing is cut or wrapped at rich's 80 columns.
PIPE_WIDTH = 100_000


def stdout_console() -> Console:
    """A console on standard output: the terminal's width, or unlimited when piped."""
    console = Console(soft_wrap=True)
    return console if console.is_terminal else Console(soft_wrap=True, width=PIPE_WIDTH)


def describe(counts: RoundCounts) -> str:
    """One line: admitted, rejected by reason, requests, tokens."""
    rejected = (
        ", ".join(f"{k} {v}" for k, v in sorted(counts.rejected.items(), key=lambda kv: -kv[1])) or "none"
    )
    cost = f" · ${counts.cost_usd:.4f}" if counts.cost_usd is not None else ""
    return (
        f"admitted {counts.admitted} · rejected: {rejected} · requests {counts.requests}"
        f" ({counts.failed_requests} failed) · tokens {counts.tokens}"
        f" (prompt {counts.prompt_tokens}, cached {counts.cached_tokens}){cost}"
    )


class RoundProgress:
    """A progress bar of completed instructions with a status line; a ProgressSink."""

    def __init__(self, console: Console, target: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]round"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
        )
        self.task = self.progress.add_task("starting…", total=target)

    def __call__(self, counts: RoundCounts) -> None:
        self.progress.update(self.task, completed=counts.complete, description=describe(counts))

    def __enter__(self) -> RoundProgress:
        self.progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.progress.stop()


def print_mapping(title: str, data: dict[str, Any], as_json: bool, indent: int | None = 2) -> None:
    """Print ``data`` to stdout as JSON, or as a two-column rich table (nested values as JSON)."""
    if as_json:
        print(json.dumps(data, indent=indent))
        return
    table = Table(title=title, show_header=False)
    for key, value in data.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    stdout_console().print(table)
