"""A stop cuts the wait for an answer in flight short; without a stop the answer is awaited."""

from __future__ import annotations

import threading
import time

import pytest

from generator.llm.interruptible import Abandoned, call_unless_stopped
from generator.llm.openai_client import OpenAIClient
from generator.records import Stage
from generator.selfinstruct.params import Decoding
from tests.conftest import ScriptedFactory

GREEDY = Decoding(temperature=0.0, top_p=1.0, max_tokens=20)


def test_the_result_is_returned_when_no_stop_comes() -> None:
    assert call_unless_stopped(lambda: 42, threading.Event()) == 42


def test_the_functions_own_error_reaches_the_caller() -> None:
    def boom() -> int:
        raise ValueError("bad body")

    with pytest.raises(ValueError, match="bad body"):
        call_unless_stopped(boom, threading.Event())


def test_a_stop_abandons_the_call_while_it_is_still_running() -> None:
    stop, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow() -> str:
        release.wait(30)
        finished.set()
        return "late"

    threading.Timer(0.2, stop.set).start()
    with pytest.raises(Abandoned):
        call_unless_stopped(slow, stop)
    assert not finished.is_set()  # the caller left before the answer
    release.set()


def test_a_stop_already_set_starts_nothing() -> None:
    started = threading.Event()
    stop = threading.Event()
    stop.set()
    with pytest.raises(Abandoned):
        call_unless_stopped(started.set, stop)
    time.sleep(0.1)
    assert not started.is_set()


def wait_for_request_thread(timeout_s: float = 30) -> None:
    """Until the client's request thread runs (then a little longer: the request is on the wire)."""
    deadline = time.monotonic() + timeout_s
    while not any(t.name == "llm-request" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the request was never started"
        time.sleep(0.05)
    time.sleep(0.3)


def test_a_client_with_a_stop_gives_up_on_a_slow_answer_as_a_transient_interruption(
    scripted_llm: ScriptedFactory,
) -> None:
    server = scripted_llm(lambda prompt: " answer", latency_s=60)
    stop = threading.Event()
    client = OpenAIClient(server.base_url, "key", server.model, max_retries=5, stop=stop)
    calls: list[object] = []
    worker = threading.Thread(target=lambda: calls.append(client.complete(["x"], GREEDY, Stage.GENERATE)))
    worker.start()
    wait_for_request_thread()
    stop.set()
    worker.join(timeout=20)  # the server answers only after 60 s
    assert not worker.is_alive(), "the client still waited for the answer after the stop"
    call = calls[0]
    assert call.transient and call.error == "interrupted before the answer came"  # type: ignore[attr-defined]
    assert call.choices == () and call.attempts == 1  # type: ignore[attr-defined]


def test_a_client_without_a_stop_waits_for_the_answer(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(lambda prompt: " answer", latency_s=0.3)
    call = OpenAIClient(server.base_url, "key", server.model).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is None and call.choices[0].text == " answer"
