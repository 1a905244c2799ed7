"""Waiting for an answer that a stop (Ctrl-C, SIGTERM) may cut short.

An HTTP request blocked in a socket read cannot be interrupted from another thread, and the
thread pools of the in-process runner are joined at interpreter exit, so a request in flight
used to hold a Ctrl-C for as long as the server took to answer (up to the request timeout).
:func:`call_unless_stopped` runs the request on a daemon thread and stops *waiting* for it as
soon as the stop is set: the caller gets :class:`Abandoned` at once, and the abandoned request
dies with the process. Nothing is lost that was committed: a step commits only after its
answer arrives, so the abandoned work is simply redone when the round resumes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

STOP_POLL_S = 0.05  # how often a waiting caller looks at the stop: well under "a few seconds"


class Abandoned(Exception):
    """Raised when the stop was set before the answer came: the request is left running, unawaited."""


def call_unless_stopped(fn: Callable[[], T], stop: threading.Event, poll_s: float = STOP_POLL_S) -> T:
    """``fn()``'s result (or its exception), unless ``stop`` is set first: then :class:`Abandoned`.

    A stop already set before the call starts nothing at all.
    """
    if stop.is_set():
        raise Abandoned
    done = threading.Event()
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, fn()))
        except BaseException as exc:  # handed to the waiting caller, who decides
            outcome.append((False, exc))
        finally:
            done.set()

    threading.Thread(target=run, name="llm-request", daemon=True).start()
    while not done.wait(poll_s):
        if stop.is_set():
            raise Abandoned
    ok, value = outcome[0]
    if not ok:
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[return-value]
