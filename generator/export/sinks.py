"""Sinks: where rows go. JSON list, JSON lines, Parquet (record batches) and Arrow (for hf).

Each sink is a context manager over one output written by :mod:`generator.export.output`
(temporary file renamed at the end, or written through for devices and FIFOs); rows are
written as they come, so memory stays flat whatever the pool size.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import IO, Any, Protocol

from generator.export.formats import Row
from generator.export.output import open_output

BATCH_ROWS = 5_000


class Sink(Protocol):
    """Receives rows one at a time; ``rows`` counts what it wrote."""

    rows: int

    def write(self, row: Row) -> None:
        """Write one row."""


class JsonListSink:
    """A JSON array, one row per line (what Alpaca-style loaders read with ``json.load``)."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.rows = out, 0
        out.write("[")

    def write(self, row: Row) -> None:
        self.out.write(",\n  " if self.rows else "\n  ")
        self.out.write(json.dumps(row, ensure_ascii=False))
        self.rows += 1

    def close(self) -> None:
        self.out.write("\n]\n" if self.rows else "]\n")


class JsonLinesSink:
    """One JSON object per line."""

    def __init__(self, out: IO[str]) -> None:
        self.out, self.rows = out, 0

    def write(self, row: Row) -> None:
        self.out.write(json.dumps(row, ensure_ascii=False))
        self.out.write("\n")
        self.rows += 1

    def close(self) -> None:
        pass


def arrow_schema(provenance: bool) -> Any:
    """The column schema of the columnar formats: alpaca fields, then provenance when asked."""
    import pyarrow as pa

    fields = [("instruction", pa.string()), ("input", pa.string()), ("output", pa.string())]
    if provenance:
        fields += [
            ("task_id", pa.int64()),
            ("origin", pa.string()),
            ("round", pa.int64()),
            ("model", pa.string()),
            ("nearest_score", pa.float64()),
            ("tags", pa.list_(pa.string())),
            ("quality", pa.float64()),
        ]
    return pa.schema(fields)


class BatchSink:
    """Buffers rows into Arrow record batches of :data:`BATCH_ROWS` and hands them to ``writer``."""

    def __init__(self, writer: Any, schema: Any) -> None:
        self.writer, self.schema, self.rows = writer, schema, 0
        self.buffer: list[Row] = []

    def write(self, row: Row) -> None:
        self.buffer.append(row)
        self.rows += 1
        if len(self.buffer) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        import pyarrow as pa

        if self.buffer:
            self.writer.write_batch(pa.RecordBatch.from_pylist(self.buffer, schema=self.schema))
            self.buffer = []

    def close(self) -> None:
        self.flush()
        self.writer.close()


@contextlib.contextmanager
def _closing_on_failure(writer: Any) -> Iterator[None]:
    """Close an Arrow writer while its file is still open when the body fails."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        raise


@contextlib.contextmanager
def text_sink(path: str | os.PathLike[str], fmt: str) -> Iterator[JsonListSink | JsonLinesSink]:
    """A JSON-list (``alpaca``) or JSON-lines sink over ``path``; ``-`` is standard output."""
    with open_output(path, "text") as out:
        sink = JsonListSink(out) if fmt == "alpaca" else JsonLinesSink(out)  # type: ignore[arg-type]
        yield sink
        sink.close()


@contextlib.contextmanager
def parquet_sink(path: str | os.PathLike[str], provenance: bool) -> Iterator[BatchSink]:
    """A Parquet file written one row group per batch."""
    import pyarrow.parquet as pq

    schema = arrow_schema(provenance)
    with open_output(path, "binary") as out:
        sink = BatchSink(pq.ParquetWriter(out, schema, compression="zstd"), schema)
        with _closing_on_failure(sink.writer):
            yield sink
        sink.close()


@contextlib.contextmanager
def arrow_sink(path: str | os.PathLike[str], provenance: bool) -> Iterator[BatchSink]:
    """An Arrow IPC stream file (what ``datasets.Dataset.from_file`` memory-maps)."""
    import pyarrow as pa

    schema = arrow_schema(provenance)
    with pa.OSFile(str(path), "wb") as out:
        sink = BatchSink(pa.ipc.new_stream(out, schema), schema)
        with _closing_on_failure(sink.writer):
            yield sink
        sink.close()
