"""Prompt log-probabilities from a completions endpoint (``echo`` + ``logprobs``), for perplexity.

The request is ``POST /completions`` with ``echo=true``, ``logprobs=1``, ``max_tokens=1`` and
temperature 0: the endpoint returns the prompt's own tokens with their offsets and log-probabilities
(OpenAI legacy completions format; llama-cpp-python's server answers it). An endpoint that refuses,
or answers without them, gives ``(None, reason)``: perplexity is then null with that reason.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai

from generator.analysis.perplexity import NO_LOGPROBS, TokenLogprob


class EchoLogprobs:
    """Reads prompt token log-probabilities from an OpenAI-compatible completions endpoint."""

    def __init__(self, base_url: str, api_key: str, model: str, timeout_s: float = 120.0) -> None:
        self.model = model
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=2)

    def prompt_logprobs(self, prompt: str) -> tuple[list[TokenLogprob] | None, str | None]:
        """The prompt's tokens with offsets and log-probabilities, or None and why not."""
        body = {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": 1,
            "temperature": 0.0,
            "echo": True,
            "logprobs": 1,
        }
        try:
            response = self._client.post("/completions", body=body, cast_to=httpx2.Response)
            data = json.loads(response.content)
        except openai.APIError as exc:
            return None, f"endpoint refused echo+logprobs: {type(exc).__name__}: {str(exc)[:200]}"
        except ValueError:
            return None, "endpoint answered echo+logprobs with a body that is not JSON"
        return parse_logprobs(data, prompt)


def parse_logprobs(data: Any, prompt: str) -> tuple[list[TokenLogprob] | None, str | None]:
    """Tokens of a legacy-format ``logprobs`` object; offsets rebuilt from token texts when missing."""
    try:
        logprobs = data["choices"][0].get("logprobs")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None, "endpoint answer has no choices"
    if not isinstance(logprobs, dict) or not logprobs.get("token_logprobs"):
        return None, NO_LOGPROBS
    values = logprobs["token_logprobs"]
    offsets = logprobs.get("text_offset")
    if not isinstance(offsets, list) or len(offsets) != len(values):
        tokens = logprobs.get("tokens") or []
        if len(tokens) != len(values):
            return None, "endpoint logprobs have neither text offsets nor tokens"
        offsets, position = [], 0
        for token in tokens:
            offsets.append(position)
            position += len(token)
    if len(values) and offsets[0] > len(prompt):
        return None, "endpoint did not echo the prompt"
    return [
        TokenLogprob(int(o), None if v is None else float(v)) for o, v in zip(offsets, values, strict=True)
    ], None
