"""What every command prints on stderr: one console, one-line errors, one interrupt notice."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console
from rich.markup import escape

__all__ = ["console", "fail", "say_interrupted"]

console = Console(stderr=True, soft_wrap=True)
_interrupt_said: list[bool] = []


def say_interrupted(message: str) -> None:
    """Print how the command was interrupted, once."""
    if not _interrupt_said:
        _interrupt_said.append(True)
        console.print(f"[yellow]{escape(message)}[/]")


def interrupt_said() -> bool:
    """Whether :func:`say_interrupted` has printed its notice."""
    return bool(_interrupt_said)


def fail(message: str) -> NoReturn:
    """Print ``error: message`` as one line (no markup read from it) and exit 2."""
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(2)
