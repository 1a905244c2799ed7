"""`pool show` (a task's whole story) and `serve` (the HTTP API)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cli.query import _sessions

if TYPE_CHECKING:
    from generator.db.lineage import TaskLineage


def _print_lineage(story: TaskLineage) -> None:
    t = story.task
    out = Console() if sys.stdout.isatty() else Console(width=100_000, soft_wrap=True)
    near = f"{t.nearest_score:.3f}" if t.nearest_score is not None else "-"
    out.print(
        f"[bold]task {t.id}[/] in pool {story.pool!r}: {t.origin}, {t.status}, round {t.round_id or '-'}, "
        f"classification {t.is_classification}, model {t.model or '-'}",
        markup=True,
        highlight=False,
    )
    out.print(f"instruction: {t.instruction}", markup=False, highlight=False)
    out.print(f"nearest: {near} {story.nearest_instruction or ''}", markup=False, highlight=False)
    for i, inst in enumerate(t.instances, 1):
        out.print(f"instance {i}: input={inst.input!r} output={inst.output!r}", markup=False, highlight=False)
    if story.in_context:
        out.print("in-context examples:", highlight=False)
        for text in story.in_context:
            out.print(f"  - {text}", markup=False, highlight=False)
    for title, part in (
        ("generation request", story.generation),
        ("classification", story.classification),
        ("instances request", story.instances_request),
    ):
        if part is not None:
            out.print(f"[bold]{title}[/] #{part.request_id} ({part.model})", highlight=False)
            out.print(
                f"--- prompt ---\n{part.prompt}\n--- response ---\n{part.response}",
                markup=False,
                highlight=False,
            )
    for r in story.rejections:
        out.print(f"rejected {r.stage}/{r.reason}: {r.text!r} {r.detail}", markup=False, highlight=False)


def pool_show(
    task_id: Annotated[int, typer.Argument(help="Task id.", min=1, max=2**63 - 1)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """One task with its whole story: request, in-context examples, nearest, classification, instances."""
    from generator.db.lineage import task_lineage

    with _sessions()() as session:
        story = task_lineage(session, task_id)
    if as_json:
        sys.stdout.write(json.dumps(story.as_json(), ensure_ascii=False, indent=2) + "\n")
    else:
        _print_lineage(story)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (OpenAPI schema at /openapi.json, docs at /docs)."""
    from api.app import serve as run_server

    run_server(host, port)
