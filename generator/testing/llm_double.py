"""A scripted OpenAI-compatible HTTP server: the LLM double of the tests and of ``bench/fleet.py``.

Serves ``GET /v1/models``, ``POST /v1/completions`` (``prompt`` a string or a list: one choice per
prompt, with its ``index``) and ``POST /v1/chat/completions`` (the last user message is the prompt).
``responder`` maps prompt -> text; then ``stop`` cuts at the earliest stop string and ``max_tokens``
(whitespace words are tokens) cuts with finish_reason "length"; usage is reported in words. With
``prompt_cache=True`` it also reports ``usage.prompt_tokens_details.cached_tokens``: the leading words
each prompt shares with an earlier one (:class:`PrefixCache`), as OpenAI does.
Faults come from ``script`` (the next answers in order: "ok", "truncate", "garbage-text",
"garbage-schema", "sleep:SECONDS" or an HTTP status such as "429") or at random through
``fault_rate`` / ``garbage_rate`` / ``truncate_rate``. No pytest import: the benchmark uses it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import random
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make ``tests`` and ``generator`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from generator.testing.completion_text import count_words, cut_words, echo_responder, prompts_of, shape
from generator.testing.http_double import JsonHandler, Reply, error_reply, json_reply
from generator.testing.prefix_cache import PrefixCache

Responder = Callable[[str], str]


class ScriptedLLMServer(ThreadingHTTPServer):
    """OpenAI-compatible server on 127.0.0.1 serving from a background thread; a context manager.

    Counters (``requests_total``, ``status_counts``, the last ``max_bodies`` request ``bodies``)
    are updated under a lock: handlers run on one thread per connection.
    """

    daemon_threads = True          # a hung client must not block shutdown
    request_queue_size = 256       # the fleet benchmark opens many connections at once
    allow_reuse_address = True

    def __init__(
        self, responder: Responder = echo_responder, *, latency_s: float = 0.0, fault_rate: float = 0.0,
        garbage_rate: float = 0.0, truncate_rate: float = 0.0, seed: int = 0, script: Iterable[str] = (),
        model: str = "scripted-model", api_key: str | None = None, retry_after_s: float | None = None,
        reverse_choices: bool = False, max_bodies: int = 1000, host: str = "127.0.0.1", port: int = 0,
        prompt_cache: bool = False,
    ) -> None:
        super().__init__((host, port), JsonHandler)
        self.responder, self.latency_s, self.model = responder, latency_s, model
        self.fault_rate, self.garbage_rate, self.truncate_rate = fault_rate, garbage_rate, truncate_rate
        self.api_key, self.retry_after_s, self.reverse_choices = api_key, retry_after_s, reverse_choices
        self.script: deque[str] = deque(script)
        self.prompt_cache = PrefixCache() if prompt_cache else None
        self.requests_total = 0
        self.prompts_total = 0  # prompts of the completions requests answered with 200
        self.status_counts: Counter[int] = Counter()
        self.bodies: deque[Any] = deque(maxlen=max_bodies)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.server_address[0]!s}:{self.server_address[1]}/v1"

    def start(self) -> ScriptedLLMServer:
        self._thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    __enter__ = start

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout test, killed bench worker) is expected: stay quiet then."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def push_script(self, *outcomes: str) -> None:
        """Force the next answers (thread-safe), e.g. ``push_script("429", "500", "ok")``."""
        with self._lock:
            self.script.extend(outcomes)

    def respond(self, method: str, path: str, body: Any, auth: str | None) -> Reply:
        """Answer one request and count it; runs on the connection's handler thread."""
        if method == "POST" and self.latency_s:
            time.sleep(self.latency_s)
        reply = self._answer(method, path.rstrip("/"), body, auth)
        with self._lock:
            self.requests_total += 1
            self.status_counts[reply[0]] += 1
            if reply[0] == 200 and isinstance(body, dict) and isinstance(body.get("prompt"), list | str):
                self.prompts_total += len(body["prompt"]) if isinstance(body["prompt"], list) else 1
            if method == "POST":
                self.bodies.append(body)
        return reply

    def _next_outcome(self) -> str:
        with self._lock:
            if self.script:
                return self.script.popleft()
            draw = self._rng.random()
            if draw < self.fault_rate:
                return self._rng.choice(("429", "500"))
            if draw < self.fault_rate + self.garbage_rate:
                return self._rng.choice(("garbage-text", "garbage-schema"))
            return "truncate" if draw < self.fault_rate + self.garbage_rate + self.truncate_rate else "ok"

    def _answer(self, method: str, path: str, body: Any, auth: str | None) -> Reply:
        if method == "GET":
            data = [{"id": self.model, "object": "model", "created": 0, "owned_by": "scripted"}]
            ok = path.endswith("/models")
            if not ok:
                return error_reply(404, f"no route {path}")
            return json_reply(200, {"object": "list", "data": data})
        if self.api_key is not None and auth != f"Bearer {self.api_key}":
            return error_reply(401, f"Incorrect API key provided: {(auth or '').removeprefix('Bearer ')}")
        chat = path.endswith("/chat/completions")
        if not (chat or path.endswith("/completions")):
            return error_reply(404, f"no route {path}")
        if not isinstance(body, dict):
            return error_reply(400, "body is not a JSON object")
        outcome = self._next_outcome()
        if outcome.startswith("sleep:"):
            time.sleep(float(outcome.split(":", 1)[1]))
        elif outcome.isdigit():
            extra = {"Retry-After": str(self.retry_after_s)} if self.retry_after_s is not None else {}
            return error_reply(int(outcome), f"scripted {outcome}", **(extra if outcome == "429" else {}))
        if outcome == "garbage-text":
            return 200, b"<html>upstream proxy error", {}  # JSON content type, non-JSON body
        if outcome == "garbage-schema":
            return json_reply(200, {"object": "text_completion", "unexpected": True})
        try:
            prompts = prompts_of(body, chat)
        except ValueError as exc:
            return error_reply(400, str(exc))
        try:
            return json_reply(200, self._completion(prompts, body, chat, truncate=outcome == "truncate"))
        except Exception as exc:  # a responder bug: answer 500 and say why, loudly
            traceback.print_exc()
            return error_reply(500, f"responder failed: {exc!r}")

    def _completion(self, prompts: list[str], body: dict[str, Any], chat: bool, truncate: bool) -> object:
        stop = body.get("stop") or ()
        stop = (stop,) if isinstance(stop, str) else tuple(stop)
        choices, used = [], 0
        for index, prompt in enumerate(prompts):
            text, reason = shape(self.responder(prompt), body.get("max_tokens"), stop)
            if truncate:
                text, reason = cut_words(text, count_words(text) // 2), "length"
            used += count_words(text)
            message = {"role": "assistant", "content": text}
            content = {"message": message} if chat else {"text": text, "logprobs": None}
            choices.append({"index": index, "finish_reason": reason, **content})
        if self.reverse_choices:
            choices.reverse()  # lets tests prove the client maps choices back by index
        prompt_words = sum(count_words(p) for p in prompts)
        usage: dict[str, Any] = {"prompt_tokens": prompt_words, "completion_tokens": used,
                                 "total_tokens": prompt_words + used}
        if self.prompt_cache is not None:
            cached = sum(self.prompt_cache.lookup_and_store(p) for p in prompts)
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        return {
            "id": f"cmpl-{self.requests_total}", "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()), "model": body.get("model", self.model), "choices": choices,
            "usage": usage,
        }


def _load_responder(name: str) -> Responder:
    """``echo``, or a prompt -> text callable named ``name`` in tests/support/responders.py."""
    if name == "echo":
        return echo_responder
    module = importlib.import_module("generator.testing.responders")  # lazily: it imports the generator
    return getattr(module, name)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    """Run the double standalone until Ctrl-C: ``python tests/support/llm_double.py --port 8765``."""
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible LLM double.")
    parser.add_argument("--responder", default="echo", help="echo, or a name in responders.py: self_instruct")
    flags: dict[str, object] = {"host": "127.0.0.1", "port": 8765, "model": "scripted-model", "seed": 0}
    flags |= dict.fromkeys(("latency", "fault-rate", "garbage-rate", "truncate-rate"), 0.0)
    for flag, default in flags.items():
        parser.add_argument(f"--{flag}", type=type(default), default=default)
    a = parser.parse_args(argv)
    server = ScriptedLLMServer(
        _load_responder(a.responder), latency_s=a.latency, fault_rate=a.fault_rate, seed=a.seed,
        garbage_rate=a.garbage_rate, truncate_rate=a.truncate_rate, model=a.model, host=a.host, port=a.port,
    )
    with server, contextlib.suppress(KeyboardInterrupt):
        print(f"scripted LLM double on {server.base_url}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
