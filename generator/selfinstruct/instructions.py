"""Instruction generation (§2.2 "Instruction Generation"): prompt rendering and completion parsing.

The model is a base model prompted completion-style: the prompt is a short header, a
numbered list of in-context tasks ``1.`` .. ``8.`` and the bare next number ``9.``; the
model continues the list. Rendering and parsing are pure and separate.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from generator.records import ParsedInstructions, Reason, Rejection, Stage
from generator.selfinstruct.params import GenerationParams
from generator.selfinstruct.templates import load_template, render

__all__ = [
    "PROMPT_MARKER",
    "normalize_whitespace",
    "parse_instruction_completion",
    "render_instruction_prompt",
    "select_prompt_instructions",
]

TEMPLATE_NAME = "instructions"
# Text that only the instruction-generation prompt contains; test servers key on it.
PROMPT_MARKER = "Here is a numbered list of tasks that people might ask a helpful assistant to do."

# A numbered line: "10. text", "10 . text", "10) text", "10.text", with optional indent; not
# a decimal such as "10.5 percent" at the start of a continuation line.
_NUMBERED_LINE = re.compile(r"\s*(\d+)\s*[.)](?!\d)(.*)", re.DOTALL)
# How much of an unusable completion a rejection keeps, so one huge reply cannot bloat a row.
_RAW_TEXT_LIMIT = 500


def normalize_whitespace(text: str) -> str:
    """Return ``text`` on one line: stripped, every whitespace run collapsed to one space."""
    return " ".join(text.split())


def render_instruction_prompt(instructions: Sequence[str], params: GenerationParams) -> str:
    """Render the prompt: header, ``1. ...`` .. ``N. ...`` (one line each), then ``N+1.``.

    The prompt ends right after the dot of the next number with no trailing space, so
    the model's first token carries its own leading space (as in ordinary text). Raises
    ``ValueError`` when the list leaves no room before ``params.max_list_items``.
    """
    next_number = len(instructions) + 1
    if next_number >= params.max_list_items:
        raise ValueError(
            f"{len(instructions)} in-context instructions leave no item before {params.max_list_items}"
        )
    lines = [f"{number}. {normalize_whitespace(text)}\n" for number, text in enumerate(instructions, 1)]
    numbered_list = "".join(lines) + f"{next_number}."
    return render(load_template(TEMPLATE_NAME), numbered_list=numbered_list)


def select_prompt_instructions(
    seed_instructions: Sequence[str],
    machine_instructions: Sequence[str],
    params: GenerationParams,
    rng: random.Random,
) -> list[str]:
    """Pick the in-context instructions: by default 6 human-written and 2 machine-made.

    Sampling is without replacement. When one side has too few, the other side fills
    in so the prompt keeps ``seed + machine`` items whenever the two together have that
    many (early rounds have no machine instructions yet; a tiny seed set still yields a
    full prompt). The result is shuffled so position carries no provenance. The draws
    are: machine sample, seed sample, shuffle -- in that order, for reproducibility.
    """
    total = params.seed_instructions_per_prompt + params.machine_instructions_per_prompt
    n_machine = min(params.machine_instructions_per_prompt, len(machine_instructions))
    n_seed = min(total - n_machine, len(seed_instructions))
    n_machine = min(total - n_seed, len(machine_instructions))
    chosen = rng.sample(list(machine_instructions), n_machine)
    chosen += rng.sample(list(seed_instructions), n_seed)
    rng.shuffle(chosen)
    return chosen


def _split_items(text: str, first_number: int, limit: int) -> tuple[list[str], bool]:
    """Split ``text`` (starting with ``first_number.``) into raw items, in order.

    A line starts a new item only when it carries the next expected number, so a
    numbered line inside an item ("3) eggs" in a recipe) stays part of that item.
    Returns the items and whether the list reached ``limit`` (later text ignored).
    """
    items: list[list[str]] = []
    expected = first_number
    for line in text.split("\n"):
        match = _NUMBERED_LINE.fullmatch(line)
        if match and int(match.group(1)) == expected:
            if expected >= limit:
                return ["\n".join(item) for item in items], True
            items.append([match.group(2)])
            expected += 1
        elif items:
            items[-1].append(line)
    return ["\n".join(item) for item in items], False


def parse_instruction_completion(
    completion: str, first_number: int, finish_reason: str | None, params: GenerationParams
) -> ParsedInstructions:
    """Parse the list continuation that follows ``first_number.`` in the prompt.

    * Items are ``first_number``, ``first_number + 1``, ... up to ``max_list_items - 1``;
      an item runs over several lines until the next numbered line; ``10 .`` and
      ``10)`` are accepted. Each item is whitespace-normalized onto one line.
    * Empty items are skipped without a record.
    * ``finish_reason == "length"``: the last item may be cut, so it is dropped and
      recorded as ``TRUNCATED`` (not when the list already reached its limit, since the
      limit's number proves the item before it ended).
    * No usable text at all: one ``UNPARSEABLE`` rejection with the raw completion.
    * ``params.lowercase_compat``: everything after the first character is lower-cased,
      as the released code did; off by default so acronyms survive.
    """
    if not 1 <= first_number < params.max_list_items:
        raise ValueError(f"first_number must be in [1, {params.max_list_items}), got {first_number}")
    # Re-attach the prompt's last number so the first item is found like every other one.
    text = f"{first_number}.{completion}"
    raw_items, reached_limit = _split_items(text, first_number, params.max_list_items)
    items = [normalize_whitespace(item) for item in raw_items]
    if params.lowercase_compat:
        items = [item[:1] + item[1:].lower() for item in items]
    rejections: list[Rejection] = []
    if finish_reason == "length" and not reached_limit and items:
        truncated = items.pop()
        if truncated:
            rejections.append(
                Rejection(stage=Stage.GENERATE, reason=Reason.TRUNCATED, text=truncated,
                          detail="finish_reason=length: the last item may be cut")
            )
    kept = tuple(item for item in items if item)
    if not kept and not rejections:
        rejections.append(
            Rejection(stage=Stage.GENERATE, reason=Reason.UNPARSEABLE, text=completion[:_RAW_TEXT_LIMIT],
                      detail="no list item with text")
        )
    return ParsedInstructions(instructions=kept, rejections=tuple(rejections))
