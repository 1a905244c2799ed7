"""The scripted double's prompt cache: how many leading tokens of a prompt it has seen before.

Modelled on the provider caches the issue names (OpenAI's prompt caching, vLLM's automatic prefix
caching, llama.cpp's slot reuse): a prompt's leading tokens that equal the leading tokens of an
earlier prompt are "cached". Tokens are whitespace words, as in the double's ``usage``. The cache
keeps the last ``capacity`` prompts, so it is bounded like a real one.
"""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["PrefixCache"]


def _common_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    for left, right in zip(a, b, strict=False):
        if left != right:
            break
        n += 1
    return n


class PrefixCache:
    """Thread-safe record of recent prompts; ``lookup_and_store`` is one request's cached count."""

    def __init__(self, capacity: int = 64) -> None:
        self._seen: deque[tuple[str, ...]] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def lookup_and_store(self, prompt: str) -> int:
        """Words of ``prompt`` whose prefix an earlier prompt shared (0 the first time); then remember it."""
        words = tuple(prompt.split())
        with self._lock:
            cached = max((_common_prefix(words, seen) for seen in self._seen), default=0)
            self._seen.append(words)
        return cached
