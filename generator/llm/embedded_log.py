"""What the embedded llama.cpp server's log says about prefix reuse (read by bench/tokens.py).

llama-cpp-python's server (verbose, its default) prints, per completion, ``Llama.generate: N
prefix-match hit, remaining M prompt tokens to eval`` when it reuses the first N tokens already in
its single slot's KV cache (``n_past``), ``Llama._create_completion: cache hit|miss`` for its RAM
prompt cache, and llama.cpp's ``prompt eval time = T ms / M tokens`` and ``eval time = T ms / R
runs`` timings. Summed over a run they say how much prompt was served from the cache and where the
server's time went.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields

__all__ = ["PrefixReuse", "prefix_reuse"]

_HIT = re.compile(r"Llama\.generate: (\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")
_PROMPT_EVAL = re.compile(r"prompt eval time =\s*([\d.]+) ms /\s*(\d+) tokens")
_EVAL = re.compile(r"(?<!prompt )eval time =\s*([\d.]+) ms /\s*(\d+) runs")


@dataclass(frozen=True, slots=True)
class PrefixReuse:
    """Sums over a server's log: completions timed, prefix hits and the prompt tokens they reused,
    prompt tokens evaluated, RAM-cache hits and misses, and milliseconds of prompt and token eval."""

    completions: int = 0
    prefix_hits: int = 0
    reused_tokens: int = 0
    evaluated_tokens: int = 0
    ram_cache_hits: int = 0
    ram_cache_misses: int = 0
    prompt_eval_ms: float = 0.0
    generation_ms: float = 0.0
    generated_tokens: int = 0

    @property
    def reused_share(self) -> float | None:
        """Reused prompt tokens / (reused + evaluated); None when nothing was timed."""
        total = self.reused_tokens + self.evaluated_tokens
        return self.reused_tokens / total if total else None


def prefix_reuse(log: str) -> PrefixReuse:
    """Sum the reuse and timing lines of a llama-cpp-python server log (see the module docstring)."""
    hits = [(int(a), int(b)) for a, b in _HIT.findall(log)]
    prompt = [(float(ms), int(n)) for ms, n in _PROMPT_EVAL.findall(log)]
    generation = [(float(ms), int(n)) for ms, n in _EVAL.findall(log)]
    return PrefixReuse(
        completions=len(prompt),
        prefix_hits=len(hits),
        reused_tokens=sum(a for a, _ in hits),
        evaluated_tokens=sum(n for _, n in prompt),
        ram_cache_hits=log.count("Llama._create_completion: cache hit"),
        ram_cache_misses=log.count("Llama._create_completion: cache miss"),
        prompt_eval_ms=sum(ms for ms, _ in prompt),
        generation_ms=sum(ms for ms, _ in generation),
        generated_tokens=sum(n for _, n in generation),
    )


def combined(parts: Sequence[PrefixReuse]) -> PrefixReuse:
    """The sums of several servers' logs (one round on several embedded servers)."""
    return PrefixReuse(*(sum(getattr(p, f.name) for p in parts) for f in fields(PrefixReuse)))
