"""Load and profile seed tasks in the original self-instruct ``seed_tasks.jsonl`` schema.

One JSON object per line::

    {"id": str, "name": str, "instruction": str,
     "instances": [{"input": str, "output": str}, ...], "is_classification": bool}

Contract of :func:`load_seed_tasks`:

* blank (whitespace-only) lines are skipped; a UTF-8 byte-order mark is tolerated;
* extra fields, at the top level or in an instance, are ignored;
* anything else that does not fit the schema raises :class:`~generator.errors.SeedFileError`
  whose message names ``file:line`` (1-based) and the field, e.g.
  ``seeds.jsonl:7: field 'instances[0].output': expected a string, got int``.
  That covers bytes that are not UTF-8, bad JSON, a line that is not an object, a missing
  field, a wrong type, an empty ``instances`` list, an empty ``id`` or ``instruction``,
  a duplicate ``id`` (the message names both lines), an ``id`` or ``name`` over 200 characters
  (the database's limit), a NUL or other control character (newline and tab are fine) or a lone
  surrogate (``"\ud800"``) in any text field, and a file with no task at all;
* loading is all-or-nothing: either every task is returned, in file order, or the first
  error is raised and nothing is returned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypedDict

from generator import characters
from generator.errors import SeedFileError
from generator.records import Instance, SeedTask

_STR_FIELDS = ("id", "name", "instruction")
_NON_EMPTY_FIELDS = ("id", "instruction")
MAX_LABEL_LENGTH = 200  # id and name: String(200) columns


class SeedProfile(TypedDict):
    """Counts describing a seed set (the released set: 175 tasks, 26 classification, 50 empty inputs)."""

    total: int
    classification: int
    empty_input: int
    mean_instruction_words: float


def _type_name(value: object) -> str:
    """Name a decoded JSON value's type the way the error messages print it."""
    names = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _expect_str(path: str, line: int, field: str, value: object) -> str:
    """Return ``value`` if it is a string, else raise naming the field."""
    if not isinstance(value, str):
        raise SeedFileError(path, line, f"field '{field}': expected a string, got {_type_name(value)}")
    unwanted = characters.unwanted_characters(value)
    if unwanted:
        first = unwanted[0]
        kind = "a lone surrogate" if "\ud800" <= first <= "\udfff" else "a control character"
        raise SeedFileError(path, line, f"field '{field}': contains {kind} (U+{ord(first):04X})")
    if field in ("id", "name") and len(value) > MAX_LABEL_LENGTH:
        message = f"field '{field}': {len(value)} characters, at most {MAX_LABEL_LENGTH}"
        raise SeedFileError(path, line, message)
    return value


def _parse_instances(path: str, line: int, value: object) -> tuple[Instance, ...]:
    """Validate the ``instances`` field: a non-empty list of ``{"input": str, "output": str}``."""
    if not isinstance(value, list):
        raise SeedFileError(path, line, f"field 'instances': expected a list, got {_type_name(value)}")
    if not value:
        raise SeedFileError(path, line, "field 'instances': expected a non-empty list, got an empty list")
    instances = []
    for index, item in enumerate(value):
        where = f"instances[{index}]"
        if not isinstance(item, dict):
            raise SeedFileError(path, line, f"field '{where}': expected an object, got {_type_name(item)}")
        parts = []
        for key in ("input", "output"):
            if key not in item:
                raise SeedFileError(path, line, f"field '{where}.{key}': missing")
            parts.append(_expect_str(path, line, f"{where}.{key}", item[key]))
        instances.append(Instance(input=parts[0], output=parts[1]))
    return tuple(instances)


def _parse_task(path: str, line: int, record: object) -> SeedTask:
    """Turn one decoded JSON line into a :class:`SeedTask`, or raise naming the bad field."""
    if not isinstance(record, dict):
        raise SeedFileError(path, line, f"expected a JSON object, got {_type_name(record)}")
    fields: dict[str, Any] = record
    for key in (*_STR_FIELDS, "instances", "is_classification"):
        if key not in fields:
            raise SeedFileError(path, line, f"field '{key}': missing")
    texts = {key: _expect_str(path, line, key, fields[key]) for key in _STR_FIELDS}
    for key in _NON_EMPTY_FIELDS:
        if not texts[key].strip():
            raise SeedFileError(path, line, f"field '{key}': must not be empty")
    instances = _parse_instances(path, line, fields["instances"])
    flag = fields["is_classification"]
    if not isinstance(flag, bool):
        raise SeedFileError(path, line, f"field 'is_classification': expected a bool, got {_type_name(flag)}")
    return SeedTask(
        id=texts["id"],
        name=texts["name"],
        instruction=texts["instruction"],
        instances=instances,
        is_classification=flag,
    )


def load_seed_tasks(path: str | Path) -> list[SeedTask]:
    """Read a seed-task JSONL file and return every task in file order.

    Raises :class:`SeedFileError` (message ``file:line: field '...': ...``) on the first
    problem found; see the module docstring for the full contract. An unreadable file
    raises :class:`SeedFileError` without a line number.
    """
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SeedFileError(name, None, f"cannot read seed file: {exc.strerror or exc}") from exc
    tasks: list[SeedTask] = []
    first_line_of: dict[str, int] = {}
    for number, chunk in enumerate(raw.split(b"\n"), start=1):
        if number == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SeedFileError(name, number, f"not valid UTF-8 (byte offset {exc.start} in line)") from exc
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SeedFileError(name, number, f"invalid JSON: {exc.msg} (column {exc.colno})") from exc
        task = _parse_task(name, number, record)
        if task.id in first_line_of:
            message = f"field 'id': duplicate id {task.id!r}, first used on line {first_line_of[task.id]}"
            raise SeedFileError(name, number, message)
        first_line_of[task.id] = number
        tasks.append(task)
    if not tasks:
        raise SeedFileError(name, None, "no seed tasks found (the file is empty)")
    return tasks


def seed_profile(tasks: Sequence[SeedTask]) -> SeedProfile:
    """Count tasks, classification tasks, tasks whose first instance has an empty input,
    and the mean number of whitespace-separated words per instruction (0.0 for no tasks)."""
    words = [len(task.instruction.split()) for task in tasks]
    return SeedProfile(
        total=len(tasks),
        classification=sum(1 for task in tasks if task.is_classification),
        empty_input=sum(1 for task in tasks if not task.instances[0].input.strip()),
        mean_instruction_words=sum(words) / len(words) if words else 0.0,
    )
