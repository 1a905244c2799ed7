"""CLI commands over the ROUGE-L novelty index: ``novelty check``, ``dedup``, ``decontaminate``.

Input files are JSONL with an ``instruction`` field or plain text, one instruction per
line (see :mod:`generator.files.textio`). Output is JSONL, written atomically; summaries and
reports of what was dropped go to stderr. Bad input exits with code 2 and one line
naming the file and line.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from generator.errors import SelfInstructError

if TYPE_CHECKING:
    from generator.files.textio import InstructionRecord
    from generator.novelty import IndexConfig, Match, Verdict

P = ParamSpec("P")
R = TypeVar("R")


def _threshold(value: float) -> float:
    if not 0.0 < value <= 1.0:
        raise typer.BadParameter("must be in (0, 1]")
    return value


Threshold = Annotated[
    float,
    typer.Option(callback=_threshold, help="ROUGE-L F at or above which two instructions are too similar."),
]
Output = Annotated[Path, typer.Option("--output", "-o", help="JSONL file to write (replaced atomically).")]
Report = Annotated[
    Path | None, typer.Option(help="Also write one JSONL line per dropped item, with its nearest match.")
]


def _fail_cleanly(func: Callable[P, R]) -> Callable[P, R]:
    """Turn project errors and output failures into one stderr line and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except SelfInstructError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
        except OSError as exc:
            typer.echo(f"error: cannot write {exc.filename or 'output'}: {exc.strerror or exc}", err=True)
            raise typer.Exit(2) from exc

    return wrapper


def _emit(rows: Iterable[Mapping[str, Any]], output: Path | None) -> None:
    from generator.files.textio import write_jsonl_atomic

    if output is None:
        for row in rows:
            typer.echo(json.dumps(row, ensure_ascii=False))
    else:
        write_jsonl_atomic(output, rows)


def _nearest_row(index: int, text: str, score: float, line: int | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"index": index, "instruction": text, "score": score}
    if line is not None:
        row["line"] = line
    return row


@_fail_cleanly
def check(
    pool: Annotated[Path, typer.Option(help="Pool instructions (JSONL or plain text).")],
    candidates: Annotated[Path, typer.Option(help="Candidate instructions (JSONL or plain text).")],
    threshold: Threshold = 0.7,
    sequential: Annotated[
        bool, typer.Option(help="Admit novel candidates into the pool in order, as generation does.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL output (default: stdout).")
    ] = None,
) -> None:
    """Check candidates against a pool: one JSON line per candidate, in input order.

    novel is false iff a pool item scores ROUGE-L >= threshold; nearest is then the best
    such item: its 0-based line in the pool file, text and exact score. With --sequential,
    novel candidates join the pool in order and take the next indices (after the pool
    file's last line), exactly as generation admits them.
    """
    from generator.files.textio import read_instructions, read_records
    from generator.novelty import NoveltyIndex

    pool_records = read_records(pool)
    index = NoveltyIndex(threshold, (r.instruction for r in pool_records), _index_config())
    first_free = pool_records[-1].line if pool_records else 0

    def line_index(item: int) -> int:
        # Pool items are numbered by file line (blank lines keep their number); admitted
        # candidates continue after the pool file's last line.
        if item < len(pool_records):
            return pool_records[item].line - 1
        return first_free + item - len(pool_records)

    texts = read_instructions(candidates)
    decide: Callable[[str], Verdict] = index.admit if sequential else index.check
    rows = []
    for text in texts:
        verdict = decide(text)
        near = verdict.nearest
        nearest = None if near is None else _nearest_row(line_index(near.index), near.text, near.score)
        rows.append({"instruction": text, "novel": verdict.novel, "nearest": nearest})
    _emit(rows, output)
    novel = sum(1 for r in rows if r["novel"])
    typer.echo(
        f"{len(rows)} candidates: {novel} novel, {len(rows) - novel} too similar (ROUGE-L >= {threshold})",
        err=True,
    )


def _dropped_row(
    position: int, record: InstructionRecord, reason: str, source: int, near: Match, source_line: int
) -> dict[str, Any]:
    """One report line: the dropped record and the earlier/eval item (``source``) it was too close to."""

    return {
        "index": position,
        "line": record.line,
        "instruction": record.instruction,
        "reason": reason,
        "nearest": _nearest_row(source, near.text, near.score, source_line),
    }


def _output_row(record: InstructionRecord) -> Mapping[str, Any]:

    return record.raw if record.raw is not None else {"instruction": record.instruction}


def _report(dropped: list[dict[str, Any]], report: Path | None, what: str) -> None:
    from generator.files.textio import write_jsonl_atomic

    for row in dropped[:20]:
        near = row["nearest"]
        typer.echo(
            f"  dropped line {row['line']} (ROUGE-L {near['score']:.3f} with {what} "
            f"line {near['line']}): {row['instruction'][:80]!r}",
            err=True,
        )
    if len(dropped) > 20:
        hint = "" if report else " (use --report for all)"
        typer.echo(f"  ... and {len(dropped) - 20} more{hint}", err=True)
    if report is not None:
        write_jsonl_atomic(report, dropped)


@_fail_cleanly
def dedup(
    file: Annotated[Path, typer.Argument(help="Dataset (JSONL or plain text).")],
    output: Output,
    threshold: Threshold = 0.7,
    report: Report = None,
) -> None:
    """Drop near-duplicates inside a dataset; the first occurrence wins."""
    from generator.files.textio import read_records
    from generator.novelty import NoveltyIndex

    records = read_records(file)
    index = NoveltyIndex(threshold, config=_index_config())
    kept: list[int] = []  # positions in the file; index item i is records[kept[i]]
    dropped: list[dict[str, Any]] = []
    for position, record in enumerate(records):
        near = index.admit(record.instruction).nearest
        if near is None:
            kept.append(position)
            continue
        source = kept[near.index]
        dropped.append(_dropped_row(position, record, "too_similar", source, near, records[source].line))
    _emit([_output_row(records[p]) for p in kept], output)
    typer.echo(
        f"{file}: kept {len(kept)} of {len(records)}, dropped {len(dropped)} near-duplicates "
        f"(ROUGE-L >= {threshold})",
        err=True,
    )
    _report(dropped, report, "earlier")


@_fail_cleanly
def decontaminate(
    file: Annotated[Path, typer.Argument(help="Dataset (JSONL or plain text).")],
    against: Annotated[Path, typer.Option(help="Evaluation set whose instructions must not leak.")],
    output: Output,
    threshold: Threshold = 0.7,
    report: Report = None,
) -> None:
    """Drop items too close to an evaluation set, reporting each drop and its eval match."""
    from generator.files.textio import read_records
    from generator.novelty import NoveltyIndex

    eval_records = read_records(against)
    if not eval_records:
        typer.echo(f"warning: {against} holds no instructions: nothing can be too close to it", err=True)
    records = read_records(file)
    index = NoveltyIndex(threshold, (r.instruction for r in eval_records), _index_config())
    kept: list[InstructionRecord] = []
    dropped: list[dict[str, Any]] = []
    for position, record in enumerate(records):
        near = index.check(record.instruction).nearest
        if near is None:
            kept.append(record)
            continue
        dropped.append(
            _dropped_row(position, record, "contaminated", near.index, near, eval_records[near.index].line)
        )
    _emit([_output_row(r) for r in kept], output)
    typer.echo(
        f"{file}: kept {len(kept)} of {len(records)}, dropped {len(dropped)} too close to "
        f"{against} (ROUGE-L >= {threshold})",
        err=True,
    )
    _report(dropped, report, f"{against.name}")


def _index_config() -> IndexConfig:
    """The settings' index config (SELFINSTRUCT_NATIVE), read when a command builds an index."""
    from generator.settings import load_settings
    from generator.wiring import index_config

    return index_config(load_settings())


def register(app: typer.Typer) -> None:
    """Add ``novelty check``, ``dedup`` and ``decontaminate`` to ``app``."""
    novelty = typer.Typer(help="ROUGE-L novelty checks against a pool.", no_args_is_help=True)
    novelty.command("check")(check)
    app.add_typer(novelty, name="novelty")
    app.command("dedup")(dedup)
    app.command("decontaminate")(decontaminate)
