"""Run an export: tasks in (an iterator), one file / folder (or a train/test pair) out.

Splits are by task and seeded: ``split_test_ids`` shuffles the task ids with ``random.Random(seed)``
and puts ``n - round(n * train_fraction)`` of them in ``test``. With a split, file formats
write ``NAME.train.EXT`` and ``NAME.test.EXT`` next to the requested path; ``hf`` writes one
``DatasetDict`` folder with both splits.
"""

from __future__ import annotations

import contextlib
import os
import random
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import ExportError
from generator.export.card import CardFacts, dataset_card
from generator.export.formats import FORMATS, row_builder
from generator.export.output import STDOUT, atomic_directory, resolve_target
from generator.export.records import ExportTask
from generator.export.sinks import Sink, arrow_schema, arrow_sink, parquet_sink, text_sink


@dataclass(frozen=True)
class ExportRequest:
    """What to write: format, path, provenance columns, train fraction (None: no split), seed."""

    fmt: str
    output: str
    provenance: bool = False
    train_fraction: float | None = None
    seed: int = 0
    pool: str = "default"
    filter_text: str = ""

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ExportError(
                f"--format {self.fmt!r} is not a known export format (known: {', '.join(FORMATS)})"
            )
        if self.train_fraction is not None and not 0.0 < self.train_fraction < 1.0:
            raise ExportError(f"--split {self.train_fraction} must be between 0 and 1 (e.g. 0.9)")
        if self.output == STDOUT and (self.fmt == "hf" or self.train_fraction is not None):
            raise ExportError(f"--output - (standard output) cannot hold a {self.fmt} export or a split")


@dataclass
class ExportSummary:
    """What was written: rows per split, tasks, the paths and the generation models seen."""

    rows: dict[str, int] = field(default_factory=dict)
    tasks: int = 0
    paths: list[str] = field(default_factory=list)
    models: set[str] = field(default_factory=set)


def split_test_ids(ids: Sequence[int], train_fraction: float, seed: int) -> frozenset[int]:
    """The task ids that go to ``test``: a seeded shuffle, ``n - round(n * fraction)`` of them."""
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    return frozenset(order[: len(order) - round(len(order) * train_fraction)])


def split_path(path: str, split: str) -> str:
    """``out/data.json`` -> ``out/data.train.json`` (the suffix stays last)."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{split}{p.suffix}"))


def _dispatch(
    tasks: Iterable[ExportTask],
    request: ExportRequest,
    sinks: Mapping[str, Sink],
    test_ids: frozenset[int],
    summary: ExportSummary,
) -> None:
    rows = row_builder(request.fmt, provenance=request.provenance, seed=request.seed)
    single = len(sinks) == 1
    for task in tasks:
        sink = sinks["train"] if single or task.id not in test_ids else sinks["test"]
        summary.tasks += 1
        if task.model:
            summary.models.add(task.model)
        for row in rows(task):
            sink.write(row)


def _file_sink(fmt: str, path: str, provenance: bool) -> contextlib.AbstractContextManager[Sink]:
    if fmt == "parquet":
        return parquet_sink(path, provenance)
    return text_sink(path, fmt)


def _split_names(request: ExportRequest) -> list[str]:
    return ["train", "test"] if request.train_fraction is not None else ["train"]


def _export_files(
    tasks: Iterable[ExportTask], request: ExportRequest, test_ids: frozenset[int]
) -> ExportSummary:
    summary = ExportSummary()
    names = _split_names(request)
    paths = {n: split_path(request.output, n) if len(names) > 1 else request.output for n in names}
    with contextlib.ExitStack() as stack:
        sinks = {n: stack.enter_context(_file_sink(request.fmt, paths[n], request.provenance)) for n in names}
        _dispatch(tasks, request, sinks, test_ids, summary)
    summary.rows = {n: sinks[n].rows for n in names}
    summary.paths = list(paths.values())
    return summary


def _export_hf(
    tasks: Iterable[ExportTask], request: ExportRequest, test_ids: frozenset[int]
) -> ExportSummary:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import datasets

    summary = ExportSummary()
    names = _split_names(request)
    target = resolve_target(request.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{target.name}.arrow.", dir=target.parent) as scratch:
        files = {n: os.path.join(scratch, f"{n}.arrow") for n in names}
        with contextlib.ExitStack() as stack:
            sinks = {n: stack.enter_context(arrow_sink(files[n], request.provenance)) for n in names}
            _dispatch(tasks, request, sinks, test_ids, summary)
        summary.rows = {n: sinks[n].rows for n in names}
        parts = {n: datasets.Dataset.from_file(files[n], in_memory=False) for n in names}
        dataset = datasets.DatasetDict(parts) if len(names) > 1 else parts["train"]
        columns = tuple(arrow_schema(request.provenance).names)
        facts = CardFacts(
            request.pool,
            summary.rows,
            columns,
            tuple(sorted(summary.models)),
            request.filter_text,
            summary.tasks,
        )
        with atomic_directory(request.output) as folder:
            dataset.save_to_disk(str(folder))
            (folder / "README.md").write_text(dataset_card(facts), encoding="utf-8")
        del dataset, parts
    summary.paths = [request.output]
    return summary


def export_tasks(
    tasks: Iterable[ExportTask], request: ExportRequest, ids: Sequence[int] = ()
) -> ExportSummary:
    """Write ``tasks`` as ``request`` says; ``ids`` (every task id that will come) is needed for a split.

    A failure anywhere leaves no new output behind (the files of a split are renamed one after
    the other at the very end).
    """
    test_ids = (
        split_test_ids(ids, request.train_fraction, request.seed) if request.train_fraction else frozenset()
    )
    if request.fmt == "hf":
        return _export_hf(tasks, request, test_ids)
    return _export_files(tasks, request, test_ids)
