"""Reading instruction files (JSONL or plain text) and writing JSON/JSONL atomically.

Format: a ``.jsonl``/``.json`` suffix means JSONL; any other file is JSONL when its first
non-blank line parses as a JSON object, else plain text with one instruction per line.
Blank lines are skipped in both formats, so an item's index is its position among the
non-blank lines (equal to its 0-based line number when the file has no blank lines).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from generator.errors import InputFileError
from generator.export.output import open_output

JSONL_SUFFIXES = (".jsonl", ".json")


@dataclass(frozen=True)
class InstructionRecord:
    """One instruction read from a file: where it was, its text, and the full JSON object.

    ``raw`` is None for plain-text files.
    """

    line: int
    instruction: str
    raw: Mapping[str, Any] | None


def _lines(path: Path) -> list[tuple[int, str]]:
    """Non-blank lines of ``path`` with their 1-based line numbers, decoded as UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputFileError(str(path), None, f"cannot read file: {exc.strerror or exc}") from exc
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as exc:
            raise InputFileError(str(path), number, f"not valid UTF-8 ({exc.reason})") from exc
        if number == 1:
            text = text.removeprefix("\ufeff")
        if text.strip():
            out.append((number, text))
    return out


def _looks_like_jsonl(path: Path, lines: list[tuple[int, str]]) -> bool:
    if path.suffix.lower() in JSONL_SUFFIXES:
        return True
    if not lines:
        return False
    try:
        return isinstance(json.loads(lines[0][1]), dict)
    except ValueError:
        return False


def read_records(path: str | os.PathLike[str]) -> list[InstructionRecord]:
    """Every instruction of a JSONL or plain-text file, in file order.

    Raises InputFileError naming file and line for unreadable files, bad UTF-8, bad JSON,
    a line that is not a JSON object, or a missing or non-string ``instruction`` field.
    """
    file = Path(path)
    lines = _lines(file)
    if not _looks_like_jsonl(file, lines):
        return [InstructionRecord(number, text, None) for number, text in lines]
    records: list[InstructionRecord] = []
    for number, text in lines:
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise InputFileError(str(file), number, f"invalid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise InputFileError(str(file), number, "expected a JSON object with an 'instruction' field")
        if "instruction" not in obj:
            raise InputFileError(str(file), number, "missing field 'instruction'")
        if not isinstance(obj["instruction"], str):
            kind = type(obj["instruction"]).__name__
            raise InputFileError(str(file), number, f"field 'instruction' must be a string, got {kind}")
        records.append(InstructionRecord(number, obj["instruction"], obj))
    return records


def read_instructions(path: str | os.PathLike[str]) -> list[str]:
    """The instruction texts of a JSONL or plain-text file (see :func:`read_records`)."""
    return [r.instruction for r in read_records(path)]


def write_jsonl_atomic(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write one JSON object per line to ``path``, all or nothing (see :func:`write_atomic`)."""

    def write(out: TextIO) -> None:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False))
            out.write("\n")

    write_atomic(path, write)


def write_json_atomic(path: str | os.PathLike[str], data: Any) -> None:
    """Write ``data`` as one indented JSON document (e.g. an Alpaca-format list), all or nothing."""

    def write(out: TextIO) -> None:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")

    write_atomic(path, write)


def write_atomic(path: str | os.PathLike[str], write: Callable[[TextIO], None]) -> None:
    """Create or replace the UTF-8 text file ``path`` with what ``write`` writes, all or nothing.

    Delegates to :func:`generator.export.output.open_output`: a temporary file renamed at the
    end for regular files and new paths (mode kept / umask followed), symlinks followed,
    devices and FIFOs written through (never replaced), ``-`` for standard output.
    """
    with open_output(path, "text", parents=False) as out:  # a missing folder stays an error
        write(out)  # type: ignore[arg-type]
