"""The HTTP plumbing of the scripted LLM server: a keep-alive JSON handler and reply helpers.

The handler parses the body and hands ``(method, path, body, authorization)`` to its server's
``respond``, which returns a :data:`Reply`; the server decides everything else.
"""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

__all__ = ["JsonHandler", "Reply", "error_reply", "json_reply"]

Reply = tuple[int, bytes, dict[str, str]]  # status, body, extra headers


class Responds(Protocol):
    def respond(self, method: str, path: str, body: Any, auth: str | None) -> Reply: ...


class JsonHandler(BaseHTTPRequestHandler):
    """Passes every GET and POST to ``server.respond`` and writes its reply as JSON."""

    protocol_version = "HTTP/1.1"  # keep-alive, like a real endpoint behind the openai client
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server: Responds  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line (thousands of them in the benchmark)."""

    def do_GET(self) -> None:
        self._send(*self.server.respond("GET", self.path, None, None))

    def do_POST(self) -> None:
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        except ValueError:
            body = None
        self._send(*self.server.respond("POST", self.path, body, self.headers.get("Authorization")))

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def json_reply(status: int, obj: object, **headers: str) -> Reply:
    """``obj`` as a JSON body with ``status``."""
    return status, json.dumps(obj).encode(), dict(headers)


def error_reply(status: int, message: str, **headers: str) -> Reply:
    """An OpenAI-shaped error body (``{"error": {"message", "type", "code"}}``)."""
    return json_reply(status, {"error": {"message": message, "type": "scripted", "code": status}}, **headers)
