"""An endpoint that echoes the key, sends absurd usage figures or NUL bytes cannot leak a secret,
overflow a column or lose a request row."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from generator.errors import ConfigError
from generator.llm.endpoint import build_client
from generator.llm.openai_client import MAX_TOKEN_COUNT, OpenAIClient
from generator.records import Stage
from generator.redaction import redact
from generator.selfinstruct.params import Decoding
from generator.settings import Settings

KEY = "sk-proj-hunter2hunter2hunter2"
GREEDY = Decoding(temperature=0.0, top_p=1.0, max_tokens=50)


class HostileEndpoint(ThreadingHTTPServer):
    """Answers every request with ``status`` and ``body`` (``{auth}``: the request's Authorization)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(handler) -> None:
                length = int(handler.headers.get("Content-Length") or 0)
                handler.rfile.read(length)
                auth = handler.headers.get("Authorization", "")
                payload = json.dumps(self.body).replace("{auth}", auth).encode()
                handler.send_response(self.status)
                if getattr(handler, "retry_after", None):
                    handler.send_header("Retry-After", handler.retry_after)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(payload)))
                handler.end_headers()
                handler.wfile.write(payload)

            do_GET = do_POST = _answer

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


@pytest.fixture
def hostile() -> Iterator[Any]:
    servers: list[HostileEndpoint] = []

    def start(status: int, body: dict[str, Any]) -> HostileEndpoint:
        server = HostileEndpoint(status, body)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


ECHO = {"error": {"message": "Incorrect API key provided: {auth}. You passed " + KEY, "type": "auth"}}


def test_a_server_echoing_the_key_never_gets_it_into_the_error(hostile: Any) -> None:
    server = hostile(401, ECHO)
    call = OpenAIClient(server.base_url, KEY, "m", max_retries=0).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is not None and call.error.startswith("401 Unauthorized: ")
    assert "Incorrect API key provided" in call.error
    assert KEY not in call.error and "hunter2" not in call.error and "Bearer ***" in call.error


def test_with_the_model_unset_a_refused_key_blames_the_key_not_the_model(hostile: Any) -> None:
    server = hostile(401, ECHO)
    with pytest.raises(ConfigError) as caught:
        build_client(Settings(llm_base_url=server.base_url, llm_api_key=KEY, llm_model=None))
    message = str(caught.value)
    assert "SELFINSTRUCT_LLM_API_KEY" in message and "SELFINSTRUCT_LLM_MODEL" not in message
    assert "hunter2" not in message


def test_absurd_usage_figures_are_clamped(hostile: Any) -> None:
    body = {"choices": [{"index": 0, "text": "ok", "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10**400, "completion_tokens": -5}}
    server = hostile(200, body)
    call = OpenAIClient(server.base_url, KEY, "m").complete(["x"], GREEDY, Stage.GENERATE)
    assert (call.prompt_tokens, call.completion_tokens) == (MAX_TOKEN_COUNT, 0)


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("key sk-abcdefghijklmnop leaked", (), "key *** leaked"),
        ("Authorization: Bearer abc.def-ghi", (), "Authorization: Bearer ***"),
        ("postgresql://me:pa55word@db/x failed", (), "postgresql://me:***@db/x failed"),
        ("your key my-own-secret-key is wrong", ("my-own-secret-key",), "your key *** is wrong"),
        ("not-needed stays", ("x",), "not-needed stays"),
    ],
)
def test_redaction_removes_keys_tokens_and_passwords(
    text: str, secrets: tuple[str, ...], expected: str
) -> None:
    assert redact(text, secrets) == expected


def test_a_stop_cuts_a_long_retry_after_wait_short(hostile: Any) -> None:
    import time

    server = hostile(429, {"error": {"message": "slow down"}})
    server.RequestHandlerClass.retry_after = "60"
    stop = threading.Event()
    client = OpenAIClient(server.base_url, KEY, "m", max_retries=5, stop=stop)
    calls: list[Any] = []
    worker = threading.Thread(target=lambda: calls.append(client.complete(["x"], GREEDY, Stage.GENERATE)))
    started = time.monotonic()
    worker.start()
    time.sleep(0.5)
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive() and time.monotonic() - started < 5
    call = calls[0]
    assert call.transient and call.error is not None and "interrupted" in call.error
