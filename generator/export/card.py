"""The dataset card (README.md) of an ``hf`` export, written from the export's own figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CardFacts:
    """What the card states: pool, split sizes, columns, models and the filter used."""

    pool: str
    splits: Mapping[str, int]
    columns: tuple[str, ...]
    models: tuple[str, ...] = ()
    filter_text: str = ""
    tasks: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)


def _front_matter(facts: CardFacts) -> str:
    total = sum(facts.splits.values())
    size = (
        "n<1K"
        if total < 1_000
        else "1K<n<10K"
        if total < 10_000
        else "10K<n<100K"
        if total < 100_000
        else ("100K<n<1M" if total < 1_000_000 else "n>1M")
    )
    lines = [
        "---",
        "language:",
        "- en",
        "task_categories:",
        "- text-generation",
        "tags:",
        "- self-instruct",
        "- synthetic",
        "- instruction-tuning",
        "size_categories:",
        f"- {size}",
        "---",
    ]
    return "\n".join(lines)


def dataset_card(facts: CardFacts) -> str:
    """Markdown with YAML front matter, as the Hugging Face Hub reads it."""
    split_rows = "\n".join(f"| {name} | {count} |" for name, count in facts.splits.items())
    models = ", ".join(f"`{m}`" for m in facts.models) or "(seed tasks only)"
    return f"""{_front_matter(facts)}

# Self-Instruct pool `{facts.pool}`

Instruction-tuning data grown with the Self-Instruct method (Wang et al., 2022) by the
`selfinstruct` generator: a language model wrote new instructions from in-context examples,
near-duplicates (ROUGE-L F1 >= 0.7 against the pool) and heuristically bad ones were dropped,
and the model then wrote input/output instances for each kept instruction.

Each row is one instance: `instruction`, `input` (empty when the task takes none) and `output`.

## Splits

| split | rows |
|---|---|
{split_rows}

{facts.tasks} tasks in all; the split is by task, so no task has instances in two splits.

## Columns

{", ".join(f"`{c}`" for c in facts.columns)}

## How it was made

- Generation model(s): {models}
- Selection: {facts.filter_text or "every complete task of the pool"}

## Limitations

Machine-written data: instances can be wrong, and the pool inherits the biases of the model
that wrote it. Review before training on it.

Load it with `datasets.load_from_disk("<this folder>")`.
"""
