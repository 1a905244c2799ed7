"""Perplexity of a response given its instruction, from the prompt log-probabilities of an endpoint.

InstructMining (Cao et al., 2023, Table 1) scores each example by the perplexity of the response under
a language model conditioned on the instruction. A completions endpoint asked with ``echo=True``,
``logprobs=0`` and ``max_tokens=0`` returns, for the prompt "instruction + response", each prompt
token with its character offset and log-probability; the response's perplexity is
``exp(-mean(logprob))`` over the tokens that start inside the response. When the endpoint returns
none, the indicator is null with the reason: it is never estimated some other way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    """One echoed prompt token: where it starts in the prompt and its log-probability (None: first)."""

    offset: int
    logprob: float | None


@dataclass(frozen=True, slots=True)
class Perplexity:
    """A perplexity, or None with the reason it could not be computed."""

    value: float | None
    reason: str | None = None


NO_LOGPROBS = "endpoint returned no prompt log-probabilities"
NO_RESPONSE_TOKENS = "no scored token inside the response"


def response_perplexity(
    tokens: Sequence[TokenLogprob] | None, response_start: int, response_end: int | None = None
) -> Perplexity:
    """Perplexity of the prompt tokens starting in ``[response_start, response_end)``.

    ``tokens`` is None (or empty) when the endpoint gave no log-probabilities. Tokens whose
    log-probability is None (the first token of a prompt has no context) are skipped; a token that
    starts before ``response_start`` belongs to the instruction and is not counted; one at or after
    ``response_end`` (the prompt's length) was generated after the echo and is not counted either.
    """
    if not tokens:
        return Perplexity(None, NO_LOGPROBS)
    end = response_end if response_end is not None else float("inf")
    scored = [t.logprob for t in tokens if response_start <= t.offset < end and t.logprob is not None]
    if not scored:
        return Perplexity(None, NO_RESPONSE_TOKENS)
    bad = [lp for lp in scored if not math.isfinite(lp)]
    if bad:
        return Perplexity(None, f"non-finite log-probability {bad[0]!r} in the response")
    return Perplexity(math.exp(-sum(scored) / len(scored)))


PROMPT_FORMAT = "{instruction}\n\n{input}Output: "  # input, when present, ends with a blank line


def perplexity_prompt(instruction: str, input: str, output: str) -> tuple[str, int]:
    """The prompt "instruction, input, Output: <output>" and the character where the output starts."""
    head = PROMPT_FORMAT.format(
        instruction=instruction.strip(), input=f"Input: {input.strip()}\n\n" if input.strip() else ""
    )
    return head + output, len(head)
