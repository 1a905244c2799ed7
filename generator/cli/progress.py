"""Rich rendering of round progress and statistics."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from generator.db.stats import RoundCounts


def describe(counts: RoundCounts) -> str:
    """One line: admitted, rejected by reason, requests, tokens."""
    rejected = (
        ", ".join(f"{k} {v}" for k, v in sorted(counts.rejected.items(), key=lambda kv: -kv[1])) or "none"
    )
    cost = f" · ${counts.cost_usd:.4f}" if counts.cost_usd is not None else ""
    return (
        f"admitted {counts.admitted} · rejected: {rejected} · requests {counts.requests}"
        f" ({counts.failed_requests} failed) · tokens {counts.tokens}{cost}"
    )


class RoundProgress:
    """A progress bar of completed instructions with a status line; a ProgressSink."""

    def __init__(self, console: Console, target: int) -> None:
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
