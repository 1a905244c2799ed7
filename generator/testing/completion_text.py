"""How the scripted LLM double reads prompts and shapes completions: default answer, tokens, stop strings,
max_tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice
from typing import Any

_WORD = re.compile(r"\S+")


def echo_responder(prompt: str) -> str:
    """Default responder: echoes the prompt's last line, so answers differ per prompt."""
    lines = prompt.strip().splitlines()
    return f" echo: {lines[-1] if lines else ''}"


def count_words(text: str) -> int:
    """The double's token count: whitespace-separated words."""
    return len(text.split())


def cut_words(text: str, n: int) -> str:
    """The first ``n`` words of ``text``, keeping the original whitespace between them."""
    kept = list(islice(_WORD.finditer(text), n))
    return text[: kept[-1].end()] if kept else ""


def shape(text: str, max_tokens: int | None, stop: Iterable[str]) -> tuple[str, str]:
    """Apply stop sequences then max_tokens, as an endpoint would; returns (text, finish_reason)."""
    cuts = [text.find(s) for s in stop if s and s in text]
    if cuts:
        text = text[: min(cuts)]
    if max_tokens is not None and count_words(text) > max_tokens:
        return cut_words(text, max_tokens), "length"
    return text, "stop"


def prompts_of(body: dict[str, Any], chat: bool) -> list[str]:
    """The prompts of a request: ``prompt`` (str or list), or the last user message of a chat."""
    if not chat:
        prompt = body.get("prompt")
        if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
            return prompt
        if not isinstance(prompt, str):
            raise ValueError("prompt must be a string or a non-empty list of strings")
        return [prompt]
    users = [m for m in body.get("messages") or () if isinstance(m, dict) and m.get("role") == "user"]
    if not users:
        raise ValueError("messages must hold a user message")
    return [str(users[-1].get("content") or "")]
