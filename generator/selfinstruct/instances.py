"""Instance generation (§2.2 "Instance Generation"): prompts, completion parsing, instance filters.

Two few-shot prompts, both ending with ``Task: {instruction}\\n`` so the model continues:

* **Input-first** (non-classification tasks, ``prompts/instances_input_first.txt``)::

      Example 1
      Input: <input>
      Output: <output>

      Example 2
      ...

  **No-input convention:** a task that needs no input gets examples with *no Input line
  at all* (``Example 1`` then ``Output: ...``); the demonstrations show both kinds. An
  ``Input:`` line left empty is accepted too. Either way the parser yields ``input=""``.
  (An empty ``Input:`` field is never produced by the prompts, because a field ending
  with ``:`` is what the ``ENDS_WITH_COLON`` filter rejects.)

* **Output-first** (classification tasks, ``prompts/instances_output_first.txt``): the
  class label comes first so the model commits to a label before writing an input for it
  (§2.2: input-first skews towards one label)::

      Class label: <label>
      Input: <input>

  Parsed as ``Instance(input=<input>, output=<label>)``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from generator import characters
from generator.records import Instance, InstanceResult, Reason, Rejection, Stage
from generator.selfinstruct.instructions import normalize_whitespace
from generator.selfinstruct.params import GenerationParams
from generator.selfinstruct.templates import load_template, render

__all__ = [
    "INPUT_FIRST_MARKER",
    "OUTPUT_FIRST_MARKER",
    "describe_instance",
    "filter_instances",
    "instances_outcome",
    "no_instances_rejection",
    "parse_instances",
    "render_instance_prompt",
]

INPUT_FIRST_TEMPLATE = "instances_input_first"
OUTPUT_FIRST_TEMPLATE = "instances_output_first"
# Text that only the matching instance prompt contains; test servers key on it.
INPUT_FIRST_MARKER = "Below are tasks, each followed by worked examples."
OUTPUT_FIRST_MARKER = "Below are classification tasks, each with its class labels."

_FLAGS = re.IGNORECASE | re.MULTILINE
# A line starting the next task: the model has finished this one (stop sequences may be
# missing on some servers, so the parser does not rely on them).
_NEXT_TASK = re.compile(r"^[ \t]*Task[ \t]*:", _FLAGS)
_EXAMPLE_HEADER = re.compile(r"^[ \t]*Example[ \t]*\d+[ \t]*[:.]?[ \t]*$", _FLAGS)
_INPUT = re.compile(r"^[ \t]*Input[ \t]*:", _FLAGS)
_OUTPUT = re.compile(r"^[ \t]*Output[ \t]*:", _FLAGS)
_CLASS_LABEL = re.compile(r"^[ \t]*Class[ \t]+label[ \t]*:(.*)$", _FLAGS)
# Rejection texts are for people reading reports; cap them so one essay cannot bloat a row.
_TEXT_LIMIT = 500


def render_instance_prompt(instruction: str, is_classification: bool) -> str:
    """Render the output-first (classification) or input-first prompt for ``instruction``.

    The instruction is whitespace-normalized onto one line (the ``Task:`` line); the
    prompt ends with that line's newline, so the model starts with ``Example 1`` or
    ``Class label:``.
    """
    name = OUTPUT_FIRST_TEMPLATE if is_classification else INPUT_FIRST_TEMPLATE
    return render(load_template(name), instruction=normalize_whitespace(instruction)) + "\n"


def _cut_at_next_task(completion: str) -> tuple[str, bool]:
    """Return the completion up to a ``Task:`` line, and whether such a line was found."""
    match = _NEXT_TASK.search(completion)
    return (completion[: match.start()], True) if match else (completion, False)


def _parse_input_first_block(block: str) -> Instance | None:
    """Parse one ``Input:`` / ``Output:`` block; ``None`` when it has neither field."""
    output_match = _OUTPUT.search(block)
    input_match = _INPUT.search(block, 0, output_match.start() if output_match else len(block))
    if output_match is None:
        # An input without an output is still an attempt: keep it so EMPTY_OUTPUT records it.
        return Instance(input=block[input_match.end():].strip(), output="") if input_match else None
    input_text = block[input_match.end(): output_match.start()].strip() if input_match else ""
    return Instance(input=input_text, output=block[output_match.end():].strip())


def _input_first_blocks(text: str) -> list[str]:
    """Split on ``Example N`` lines; text before the first header counts if it has fields."""
    first, *rest = _EXAMPLE_HEADER.split(text)
    has_fields = _INPUT.search(first) or _OUTPUT.search(first)
    return ([first] if has_fields else []) + rest


def _output_first_blocks(text: str) -> list[tuple[str, str]]:
    """Split on ``Class label:`` lines into (label, body) pairs; text before the first is ignored."""
    parts = _CLASS_LABEL.split(text)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _parse_output_first_block(label: str, body: str) -> Instance | None:
    """Parse one labelled block; ``None`` when it has no ``Input:`` (a label alone is no example)."""
    input_match = _INPUT.search(body)
    if input_match is None:
        return None
    return Instance(input=body[input_match.end():].strip(), output=label)


def parse_instances(completion: str, is_classification: bool, finish_reason: str | None) -> list[Instance]:
    """Parse the examples the model wrote after ``Task: ...``, in order, fields stripped.

    Everything from a ``Task:`` line on is ignored (the model moved to a new task). When
    ``finish_reason == "length"`` and no such line ended the text, the last block may be
    cut and is dropped. Blocks without fields are skipped; an empty list means nothing
    was parsed (the caller records ``NO_INSTANCES``, see :func:`no_instances_rejection`).
    Multi-line inputs and outputs keep their inner newlines.
    """
    text, ended_by_next_task = _cut_at_next_task(completion)
    truncated = finish_reason == "length" and not ended_by_next_task
    parsed: list[Instance | None]
    if is_classification:
        pairs = _output_first_blocks(text)
        parsed = [_parse_output_first_block(label, body) for label, body in pairs]
    else:
        parsed = [_parse_input_first_block(block) for block in _input_first_blocks(text)]
    if truncated and parsed:
        parsed.pop()
    return [instance for instance in parsed if instance is not None]


def describe_instance(instance: Instance) -> str:
    """Return the one-line ``input: ... | output: ...`` text stored on instance rejections."""
    text = f"input: {normalize_whitespace(instance.input)} | output: {normalize_whitespace(instance.output)}"
    return text[:_TEXT_LIMIT]


def no_instances_rejection(instruction: str, parsed: int, error: str | None = None) -> Rejection:
    """Return the ``NO_INSTANCES`` rejection of a task whose reply left no instance to keep.

    ``parsed`` is how many examples the reply held before the filters; ``error`` the request's
    error when it failed for good (then there was no reply to parse).
    """
    detail = error or f"{parsed} parsed, none kept"
    return Rejection(stage=Stage.INSTANCES, reason=Reason.NO_INSTANCES, text=instruction, detail=detail)


def instances_outcome(instruction: str, completion: str, is_classification: bool, finish_reason: str | None,
                      params: GenerationParams, error: str | None = None) -> InstanceResult:
    """Parse and filter one reply; when nothing is kept, the rejections end with ``NO_INSTANCES``."""
    parsed = parse_instances(completion, is_classification, finish_reason)
    result = filter_instances(parsed, params)
    if result.instances:
        return result
    return InstanceResult((), (*result.rejections, no_instances_rejection(instruction, len(parsed), error)))


def _reject(reason: Reason, instance: Instance, detail: str = "") -> Rejection:
    return Rejection(stage=Stage.INSTANCES, reason=reason, text=describe_instance(instance), detail=detail)


def _single_instance_reason(instance: Instance) -> Reason | None:
    """The per-instance checks, most specific first."""
    input_text, output_text = instance.input.strip(), instance.output.strip()
    if not output_text:
        return Reason.EMPTY_OUTPUT
    if input_text == output_text:
        return Reason.INPUT_EQUALS_OUTPUT
    if input_text.endswith(":") or output_text.endswith(":"):
        return Reason.ENDS_WITH_COLON
    both = input_text + output_text
    if characters.unwanted_characters(both) or characters.REPLACEMENT in both:
        return Reason.CONTROL_CHARACTERS
    return None


def filter_instances(instances: Sequence[Instance], params: GenerationParams) -> InstanceResult:
    """Keep the usable instances of one task; every dropped one gets a rejection (``Stage.INSTANCES``).

    In order:

    1. per instance: ``EMPTY_OUTPUT``, then ``INPUT_EQUALS_OUTPUT``, then
       ``ENDS_WITH_COLON`` (input or output ends with ``:``, a sign of a cut field);
    2. ``CONFLICTING_OUTPUTS``: if one non-empty input has two different outputs among
       the survivors, the model contradicts itself, so *all* survivors are dropped, one
       rejection each. An empty input is exempt: tasks without input (``"Suggest a
       name ..."``) legitimately have many outputs;
    3. ``DUPLICATE_INSTANCE``: exact repeats after the first;
    4. ``OVER_LIMIT``: survivors beyond ``params.max_instances_per_task``, in order.

    Never returns ``NO_INSTANCES``; see :func:`no_instances_rejection`.
    """
    rejections: list[Rejection] = []
    survivors: list[Instance] = []
    for instance in instances:
        reason = _single_instance_reason(instance)
        if reason is None:
            survivors.append(instance)
        else:
            rejections.append(_reject(reason, instance))
    outputs_by_input: defaultdict[str, set[str]] = defaultdict(set)
    for instance in survivors:
        if instance.input.strip():
            outputs_by_input[instance.input.strip()].add(instance.output.strip())
    conflicts = sorted(text for text, outputs in outputs_by_input.items() if len(outputs) > 1)
    if conflicts:
        detail = f"{len(conflicts)} input(s) with different outputs, e.g. {conflicts[0][:100]!r}"
        rejections.extend(_reject(Reason.CONFLICTING_OUTPUTS, instance, detail) for instance in survivors)
        return InstanceResult(instances=(), rejections=tuple(rejections))
    kept: list[Instance] = []
    seen: set[tuple[str, str]] = set()
    for instance in survivors:
        key = (instance.input.strip(), instance.output.strip())
        if key in seen:
            rejections.append(_reject(Reason.DUPLICATE_INSTANCE, instance))
        elif len(kept) >= params.max_instances_per_task:
            rejections.append(_reject(Reason.OVER_LIMIT, instance, f"kept the first {len(kept)}"))
        else:
            kept.append(instance)
        seen.add(key)
    return InstanceResult(instances=tuple(kept), rejections=tuple(rejections))
