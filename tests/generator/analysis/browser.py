"""A headless Chromium driven over the DevTools protocol on a pipe (stdlib only, no Playwright).

``open_page`` loads a URL, waits until every ``.plotly-graph-div`` holds a rendered ``svg.main-svg``
(or the timeout passes), and returns what the page did: console errors, uncaught exceptions, every
network request the page issued (from ``Network.requestWillBeSent``) and the figures' SVG counts.
Chromium gets ``--remote-debugging-pipe``: it reads commands on fd 3 and writes replies on fd 4, one
JSON message per NUL-terminated chunk.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
)
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

FIGURE_STATE = """(() => {
  const divs = [...document.querySelectorAll('.plotly-graph-div')];
  return JSON.stringify(divs.map(d => [d.id, d.querySelectorAll('svg.main-svg').length]));
})()"""


def chromium_binary() -> str | None:
    """The path of a Chromium/Chrome binary on PATH, or None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageReport:
    """What one page load did."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)  # figure div id -> svg.main-svg count
    loaded: bool = False


class _Pipe:
    def __init__(self, binary: str, profile: str, extra: tuple[str, ...]) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # fd 3 <- our commands, fd 4 -> its replies; its own stdin/stdout stay off the protocol.
        script = 'exec "$@" 3<&0 4>&1 0</dev/null 1>&2'
        self._log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self.process = subprocess.Popen(
            ["sh", "-c", script, "sh", binary, *FLAGS, f"--user-data-dir={profile}", *extra, "about:blank"],
            stdin=to_child_r,
            stdout=from_child_w,
            stderr=self._log,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        return self._next_id

    def receive(self, deadline: float) -> dict[str, Any] | None:
        import select

        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._from_child], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._from_child, 65536)
            if not chunk:
                raise RuntimeError(f"chromium exited: {self.stderr()[-2000:]}")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def stderr(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        self._log.close()


class _Session:
    """Commands to one page target; events are recorded into ``report`` while waiting for replies."""

    def __init__(self, pipe: _Pipe, report: PageReport, deadline: float) -> None:
        self.pipe, self.report, self.deadline = pipe, report, deadline
        self.session: str | None = None

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        wanted = self.pipe.send(method, params, self.session)
        while True:
            message = self.pipe.receive(self.deadline)
            if message is None:
                raise TimeoutError(f"no reply to {method}")
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self.record(message)

    def record(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            self.report.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.report.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
            )
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.report.console_errors.append(params["entry"]["text"])
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.report.exceptions.append(
                details.get("exception", {}).get("description", details.get("text", ""))
            )
        elif method == "Page.loadEventFired":
            self.report.loaded = True

    def drain(self, until: float) -> None:
        while (message := self.pipe.receive(min(until, self.deadline))) is not None:
            self.record(message)


def open_page(
    url: str, binary: str, *, timeout: float = 90.0, extra_flags: tuple[str, ...] = ()
) -> PageReport:
    """Load ``url`` in a fresh headless Chromium profile and report what happened (see the module doc)."""
    report = PageReport()
    with tempfile.TemporaryDirectory(prefix="report-chromium-") as profile:
        pipe = _Pipe(binary, profile, extra_flags)
        try:
            session = _Session(pipe, report, time.monotonic() + timeout)
            target = session.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session.session = session.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log", "Network"):
                session.call(f"{domain}.enable")
            session.call("Page.navigate", {"url": url})
            while not report.loaded and time.monotonic() < session.deadline:
                session.drain(time.monotonic() + 0.5)
            _wait_for_figures(session)
            session.drain(time.monotonic() + 1.0)  # late console errors and requests
        finally:
            pipe.close()
    return report


def _wait_for_figures(session: _Session) -> None:
    while True:
        state = session.call("Runtime.evaluate", {"expression": FIGURE_STATE, "returnByValue": True})
        session.report.figures = dict(json.loads(state["result"]["value"]))
        if all(session.report.figures.values()) or time.monotonic() > session.deadline - 5:
            return
        session.drain(time.monotonic() + 0.5)
