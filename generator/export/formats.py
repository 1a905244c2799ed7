"""Row builders of the export formats: tasks in, one dict per output row out (lazily).

* ``alpaca``: ``{instruction, input, output}`` per instance (Stanford Alpaca's fields).
* ``jsonl``: one task per row with its ``instances`` list and ``is_classification``.
* ``openai-chat``: ``{"messages": [user, assistant]}`` per instance (OpenAI fine-tuning, TRL, axolotl);
  the user turn is the instruction, followed by a blank line and the input when there is one.
* ``sharegpt``: ``{"conversations": [{"from": "human", ...}, {"from": "gpt", ...}]}`` per instance.
* ``selfinstruct``: ``{prompt, completion}`` per instance from one of :data:`PROMPT_TEMPLATES`,
  picked by a seeded generator, as the paper fine-tuned GPT-3 on varied templates (Wang et al.,
  2022, §4 "Finetuning the LM to follow instructions").
* ``parquet`` and ``hf`` store the ``alpaca`` rows (plus provenance) as columns.

``provenance`` adds task id, origin, round, model and nearest score (tags/quality when present):
as top-level fields in the JSON formats, as columns in parquet/hf.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from generator.errors import ExportError
from generator.export.records import ExportInstance, ExportTask

Row = dict[str, object]

# Written for this project; {instruction} and {input} are filled in, the completion is the output.
PROMPT_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("Task: {instruction}\nInput: {input}\nOutput:", "Task: {instruction}\nOutput:"),
    ("{instruction}\n\n{input}\n\nAnswer:", "{instruction}\n\nAnswer:"),
    ("Instruction: {instruction}\nGiven: {input}\nResponse:", "Instruction: {instruction}\nResponse:"),
    (
        "Here is a request.\n{instruction}\nDetails: {input}\nReply:",
        "Here is a request.\n{instruction}\nReply:",
    ),
    ("Q: {instruction}\n{input}\nA:", "Q: {instruction}\nA:"),
)
COMPLETION_END = "<|endoftext|>"


def user_turn(instruction: str, instance: ExportInstance) -> str:
    """The instruction, then a blank line and the input when the instance has one."""
    return f"{instruction}\n\n{instance.input}" if instance.input.strip() else instruction


def _alpaca(task: ExportTask, instance: ExportInstance) -> Row:
    return {"instruction": task.instruction, "input": instance.input, "output": instance.output}


def _chat(task: ExportTask, instance: ExportInstance) -> Row:
    return {
        "messages": [
            {"role": "user", "content": user_turn(task.instruction, instance)},
            {"role": "assistant", "content": instance.output},
        ]
    }


def _sharegpt(task: ExportTask, instance: ExportInstance) -> Row:
    return {
        "conversations": [
            {"from": "human", "value": user_turn(task.instruction, instance)},
            {"from": "gpt", "value": instance.output},
        ]
    }


@dataclass
class SelfInstructPrompts:
    """Seeded choice of a prompt template per instance (the same seed gives the same file)."""

    seed: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __call__(self, task: ExportTask, instance: ExportInstance) -> Row:
        with_input, without_input = PROMPT_TEMPLATES[self._rng.randrange(len(PROMPT_TEMPLATES))]
        if instance.input.strip():
            prompt = with_input.format(instruction=task.instruction, input=instance.input)
        else:
            prompt = without_input.format(instruction=task.instruction)
        return {"prompt": prompt, "completion": f" {instance.output}{COMPLETION_END}"}


InstanceRow = Callable[[ExportTask, ExportInstance], Row]
TaskRows = Callable[[ExportTask], list[Row]]
FORMATS = ("alpaca", "jsonl", "openai-chat", "sharegpt", "selfinstruct", "parquet", "hf")
JSON_LINES = ("jsonl", "openai-chat", "sharegpt", "selfinstruct")
COLUMNAR = ("parquet", "hf")


def _per_task(task: ExportTask, provenance: bool) -> list[Row]:
    row: Row = {
        "instruction": task.instruction,
        "is_classification": task.is_classification,
        "instances": [{"input": i.input, "output": i.output} for i in task.instances],
    }
    if provenance:
        row.update(task.provenance())
    return [row]


def row_builder(fmt: str, *, provenance: bool = False, seed: int = 0) -> TaskRows:
    """A function from one task to its rows in ``fmt`` (one of :data:`FORMATS`).

    The ``selfinstruct`` builder keeps its seeded generator across calls: build every task of
    an export with the same builder so the template sequence depends only on the seed.
    """
    if fmt == "jsonl":
        return lambda task: _per_task(task, provenance)
    builders: dict[str, InstanceRow] = {
        "alpaca": _alpaca,
        "parquet": _alpaca,
        "hf": _alpaca,
        "openai-chat": _chat,
        "sharegpt": _sharegpt,
        "selfinstruct": SelfInstructPrompts(seed),
    }
    if fmt not in builders:
        raise ExportError(f"--format {fmt!r} is not a known export format (known: {', '.join(FORMATS)})")
    build, every = builders[fmt], fmt in COLUMNAR

    def rows(task: ExportTask) -> list[Row]:
        out = []
        for instance in task.instances:
            row = build(task, instance)
            if provenance:
                row.update(task.provenance(every_column=every))
            out.append(row)
        return out

    return rows


def build_rows(
    fmt: str, tasks: Iterable[ExportTask], *, provenance: bool = False, seed: int = 0
) -> Iterator[Row]:
    """The rows of ``fmt`` for ``tasks``, produced lazily."""
    rows = row_builder(fmt, provenance=provenance, seed=seed)
    for task in tasks:
        yield from rows(task)
