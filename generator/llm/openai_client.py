"""The OpenAI-compatible implementation of :class:`generator.llm.client.LLMClient`.

Contract of :meth:`LLMClient.complete`: it never raises for endpoint trouble. Transient
failures (429, 5xx, 408/409, timeouts, connection errors, malformed bodies) are retried with
exponential backoff and full jitter (or the server's Retry-After); if they persist, and at once
for permanent 4xx answers, it returns an :class:`LLMCall` with ``error`` set, ``attempts``
counted and ``transient`` telling the two apart, so the pipeline stores a failed request and
a rejection instead of losing the round. It raises only for caller bugs (``ValueError``).
"""

from __future__ import annotations

import email.utils
import http
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import httpx2
import openai

from generator.llm.client import TRANSIENT_4XX, Throttle
from generator.llm.interruptible import Abandoned, call_unless_stopped
from generator.records import Choice, LLMCall, Stage
from generator.redaction import redact
from generator.selfinstruct.params import Decoding

MAX_STOP_SEQUENCES = 4      # the OpenAI API rejects requests with more than 4 stop strings
BACKOFF_BASE_S = 0.5        # first retry waits up to this; doubles per attempt
BACKOFF_CAP_S = 30.0        # ...but never more than this
RETRY_AFTER_CAP_S = 60.0    # a server asking for longer is capped: the round has a deadline too
MAX_TOKEN_COUNT = 2**31 - 1  # a usage figure above this is nonsense (and overflows an INTEGER column)


class MalformedResponseError(ValueError):
    """The endpoint answered 2xx with a body that is not a usable completion (retried as transient)."""


class OpenAIClient:
    """:class:`LLMClient` over the ``openai`` package, for any OpenAI-compatible endpoint.

    The openai client's own retries are disabled (``max_retries=0``) so that attempts, backoff
    and the throttle are ours to count and control.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        api: str = "completions",
        timeout_s: float = 120.0,
        max_retries: int = 5,
        throttle: Throttle | None = None,
        prompts_per_request: int = 1,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if api not in ("completions", "chat"):
            raise ValueError(f"api must be 'completions' or 'chat', not {api!r}")
        self.model = model
        self.api = api
        self.max_prompts_per_request = max(1, prompts_per_request) if api == "completions" else 1
        self.max_retries = max_retries
        self._throttle = throttle
        # A set ``stop`` (Ctrl-C, SIGTERM) cuts a backoff wait short, sends nothing more and stops
        # waiting for an answer in flight (generator/llm/interruptible.py); without one (fleet
        # workers, whose tasks are redelivered anyway) requests run on the caller's thread.
        self._interruptible = stop is not None
        self._stop = stop or threading.Event()
        self._sleep = sleep if sleep is not None else self._stop.wait  # an empty recorder is falsy
        self._rng = rng or random.Random()
        self._secrets = (api_key,)  # never stored or printed, even when a server echoes it
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0)

    def complete(self, prompts: Sequence[str], decoding: Decoding, stage: Stage) -> LLMCall:
        """Send ``prompts`` in one request (retrying transient failures); see the module contract.

        ``latency_s`` is the wall time of the last attempt (the one whose answer or error is kept);
        backoff waits are not endpoint latency and are left out.
        """
        batch = tuple(prompts)
        if not 1 <= len(batch) <= self.max_prompts_per_request:
            raise ValueError(f"{len(batch)} prompts; this client takes 1..{self.max_prompts_per_request}")
        call = LLMCall(stage=stage, model=self.model, api=self.api, prompts=batch)
        # Rough token estimate for the limiter: ~4 characters per token, plus the worst-case output.
        tokens = sum(len(p) for p in batch) // 4 + decoding.max_tokens * len(batch)
        attempts = 0
        while True:
            attempts += 1
            if self._throttle is not None:
                self._throttle.acquire(1, tokens)
            started = time.perf_counter()
            try:
                choices, usage = self._send(batch, decoding)
            except Abandoned:
                return replace(call, error="interrupted before the answer came", attempts=attempts,
                               latency_s=time.perf_counter() - started, transient=True)
            except (openai.APIError, ValueError) as exc:  # JSON garbage surfaces as a ValueError
                latency = time.perf_counter() - started
                transient, error, retry_after = _classify(exc)
                if not transient or attempts > self.max_retries:
                    suffix = f" after {attempts} attempts" if transient else ""
                    error = redact(error + suffix, self._secrets)
                    return replace(call, error=error, attempts=attempts, latency_s=latency,
                                   transient=transient)
                self._sleep(self._delay(attempts, retry_after))
                if self._stop.is_set():
                    return replace(call, error=f"{error}; stopped before retrying (interrupted)",
                                   attempts=attempts, latency_s=latency, transient=True)
                continue
            return replace(call, choices=choices, prompt_tokens=usage[0], completion_tokens=usage[1],
                           cached_tokens=usage[2],
                           latency_s=time.perf_counter() - started, attempts=attempts)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), RETRY_AFTER_CAP_S)
        # Full jitter (AWS architecture blog): spreads a fleet's retries instead of synchronising them.
        return self._rng.uniform(0.0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1)))

    def _send(self, batch: tuple[str, ...], d: Decoding) -> tuple[tuple[Choice, ...], Usage]:
        if not self._interruptible:
            return self._request(batch, d)
        return call_unless_stopped(lambda: self._request(batch, d), self._stop)

    def _request(self, batch: tuple[str, ...], d: Decoding) -> tuple[tuple[Choice, ...], Usage]:
        # The body is posted as-is and the answer read as plain JSON: the openai client's request
        # transform and response models cost more CPU than the rest of a fleet task together, and
        # its ``post`` keeps the same auth, timeouts and error types (see _classify).
        body: dict[str, Any] = {
            "model": self.model, "temperature": d.temperature, "top_p": d.top_p, "max_tokens": d.max_tokens,
            "presence_penalty": d.presence_penalty, "frequency_penalty": d.frequency_penalty,
        }
        if d.stop:  # nothing to stop on: the field is omitted, not null
            body["stop"] = list(d.stop[:MAX_STOP_SEQUENCES])
        chat = self.api == "chat"
        if chat:
            body["messages"] = [{"role": "user", "content": batch[0]}]
        else:
            # A lone prompt goes as a string: some compatible servers mishandle one-item lists.
            body["prompt"] = list(batch) if len(batch) > 1 else batch[0]
        path = "/chat/completions" if chat else "/completions"
        response = self._client.post(path, body=body, cast_to=httpx2.Response)
        data = json.loads(response.content)  # JSON garbage raises a ValueError: retried as malformed
        if not isinstance(data, dict):
            raise MalformedResponseError("response body is not a JSON object")
        return _choices(data, len(batch), chat=chat), _usage(data)


def _choices(data: dict[str, Any], expected: int, chat: bool) -> tuple[Choice, ...]:
    """Choices in prompt order, mapped back by ``choice.index``; the body is read defensively
    (a schema-less body arrives as-is)."""
    raw = data.get("choices")
    if not isinstance(raw, list):
        raise MalformedResponseError("response has no choices list")
    by_index: dict[int, Choice] = {}
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            raise MalformedResponseError(f"choice {position} is not an object")
        index = item.get("index")
        index = index if isinstance(index, int) else position
        if chat:
            message = item.get("message")
            text = message.get("content") if isinstance(message, dict) else None
            text = "" if isinstance(message, dict) and text is None else text  # e.g. an empty refusal
        else:
            text = item.get("text")
        if not isinstance(text, str):
            raise MalformedResponseError(f"choice {position} has no text")
        reason = item.get("finish_reason")
        by_index[index] = Choice(text=text, finish_reason=reason if isinstance(reason, str) else None)
    if sorted(by_index) != list(range(expected)):
        raise MalformedResponseError(f"expected choice indexes 0..{expected - 1}, got {sorted(by_index)}")
    return tuple(by_index[i] for i in range(expected))


# (prompt tokens, completion tokens, cached prompt tokens or None when not reported)
Usage = tuple[int, int, int | None]


def _usage(data: dict[str, Any]) -> Usage:
    """Token counts from ``usage``: prompt and completion are 0 when the endpoint does not report
    them; cached is ``usage.prompt_tokens_details.cached_tokens`` (OpenAI, vLLM, llama.cpp's own
    server), None when absent -- "not reported" is never stored as "nothing was cached"."""
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    known = isinstance(cached, int) and not isinstance(cached, bool) and cached >= 0
    prompt = _token_count(usage.get("prompt_tokens"))
    completion = _token_count(usage.get("completion_tokens"))
    return prompt, completion, min(_token_count(cached), prompt) if known else None


def _token_count(value: object) -> int:
    """A reported token count clamped to 0..MAX_TOKEN_COUNT; 0 when it is not an integer."""
    if not isinstance(value, int) or isinstance(value, bool):
        return 0
    return min(max(value, 0), MAX_TOKEN_COUNT)


def _classify(exc: Exception) -> tuple[bool, str, float | None]:
    """(transient?, short error text, Retry-After seconds or None) for one failed attempt."""
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        transient = status in TRANSIENT_4XX or status >= 500
        text = f"{status} {phrase}".strip()
        if not transient:  # the server's explanation is what the user needs (bad key, unknown model)
            text += f": {exc.message[:300]}"
        return transient, text, _retry_after(exc.response.headers)
    if isinstance(exc, openai.APITimeoutError):
        return True, "request timed out", None
    if isinstance(exc, openai.APIConnectionError):
        return True, f"connection error: {exc.__cause__ or exc}"[:300], None
    return True, f"malformed response: {exc}"[:300], None


def _retry_after(headers: Any) -> float | None:
    """Seconds asked for by ``retry-after-ms`` / ``retry-after`` (seconds or an HTTP date), else None."""
    millis, value = headers.get("retry-after-ms"), headers.get("retry-after")
    try:
        if millis is not None:
            return float(millis) / 1000.0
        return float(value) if value is not None else None
    except ValueError:
        pass
    try:
        return float(email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
