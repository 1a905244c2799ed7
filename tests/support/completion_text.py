"""How the scripted LLM double shapes a completion: its default answer, tokens, stop strings, max_tokens."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice

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
