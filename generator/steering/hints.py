"""The steered generation prompt: the plain instruction prompt, plus a hint line for ``tag-hints``.

The hint is one sentence appended to the prompt's header paragraph (before the blank line
that opens the numbered list), so a base model still sees "header, ``1.`` .. ``8.``, ``9.``"
and continues the list; the list, its numbering and the bare next number are untouched, so
:func:`generator.selfinstruct.instructions.parse_instruction_completion` parses the continuation as before.
The sentence is the template ``generator/steering/prompts/tag_hint.txt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib.resources import files

from generator.selfinstruct import instructions
from generator.selfinstruct.params import GenerationParams
from generator.selfinstruct.templates import render
from generator.steering.policy import PromptPlan

__all__ = ["hint_sentence", "join_tags", "render_steered_prompt"]

_HEADER_END = "\n\n"


@cache
def _template() -> str:
    resource = files("generator.steering") / "prompts" / "tag_hint.txt"
    return resource.read_text(encoding="utf-8").rstrip("\n")


def join_tags(tags: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``: tags whitespace-normalized onto one line."""
    clean = [instructions.normalize_whitespace(tag) for tag in tags]
    if len(clean) <= 2:
        return " and ".join(clean)
    return ", ".join(clean[:-1]) + " and " + clean[-1]


def hint_sentence(tags: Sequence[str]) -> str:
    """The hint sentence naming ``tags``; ValueError when there are none."""
    if not tags:
        raise ValueError("a hint needs at least one tag")
    return render(_template(), tags=join_tags(tags))


def render_steered_prompt(plan: PromptPlan, params: GenerationParams) -> str:
    """The generation prompt of ``plan``: the plain prompt of its examples, with the hint sentence
    appended to the header when the plan aims at tags through hints (``tag-hints``).

    Strategies other than ``tag-hints`` (and a ``tag-hints`` plan with no tags, e.g. on an
    untagged pool) give exactly :func:`generator.selfinstruct.instructions.render_instruction_prompt`.
    """
    prompt = instructions.render_instruction_prompt(plan.instructions, params)
    if plan.strategy != "tag-hints" or not plan.aimed_tags:
        return prompt
    header, sep, numbered_list = prompt.partition(_HEADER_END)
    if not sep:
        raise ValueError("the instruction template has no blank line between header and list")
    return f"{header} {hint_sentence(plan.aimed_tags)}{sep}{numbered_list}"
