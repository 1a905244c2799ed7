"""Tag prompts: the query a user would send, and the chat and completions prompts that ask for its tags.

Templates live in ``prompts/*.txt`` (written for this project); rendering is a pure string substitution.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

CHAT_TEMPLATE = "tag_chat.txt"
COMPLETION_TEMPLATE = "tag_completion.txt"
# Phrases that identify a tag prompt (the scripted test endpoint answers on them).
TAG_MARKERS: tuple[str, ...] = ("every intention behind it", "the intentions behind it")
# A base model continues the few-shot list; stop before it writes the next example.
COMPLETION_STOP: tuple[str, ...] = ("\n\nQuery:", "\nQuery:", "\n\n")


@cache
def load_template(name: str) -> str:
    """The text of one template file shipped in ``generator/instag/prompts``."""
    return resources.files("generator.instag").joinpath("prompts", name).read_text(encoding="utf-8")


def render_query(instruction: str, instance_input: str = "") -> str:
    """The query that is tagged: the instruction, plus one instance input (after a blank line) if any."""
    instruction = instruction.strip()
    instance_input = instance_input.strip()
    return f"{instruction}\n\n{instance_input}" if instance_input else instruction


def render_chat_prompt(query: str, template: str | None = None) -> str:
    """The chat-style prompt (one user message) asking for the intentions of ``query`` as a JSON list."""
    return (template or load_template(CHAT_TEMPLATE)).replace("{query}", query.strip())


def render_completion_prompt(query: str, template: str | None = None) -> str:
    """The few-shot completions prompt for base models; its continuation is the same JSON list.

    The query's own blank lines are folded to single newlines so that the stop sequence ``"\\n\\n"``
    cannot fire inside the query's echo and the few-shot layout stays intact.
    """
    folded = "\n".join(line for line in query.strip().splitlines() if line.strip())
    return (template or load_template(COMPLETION_TEMPLATE)).rstrip().replace("{query}", folded)
