"""OpenAIClient through the real ``openai`` package against the scripted double."""

from __future__ import annotations

import random
import socket
import threading
import time
from typing import Any

import pytest

from generator.errors import ConfigError
from generator.llm.endpoint import build_client
from generator.llm.openai_client import MAX_STOP_SEQUENCES, RETRY_AFTER_CAP_S, OpenAIClient
from generator.llm.pricing import cost_usd
from generator.records import Choice, Stage
from generator.selfinstruct.params import Decoding
from generator.settings import Settings
from generator.testing.llm_double import ScriptedLLMServer
from tests.conftest import ScriptedFactory

GREEDY = Decoding(temperature=0.0, top_p=1.0, max_tokens=50)


class Sleeps(list[float]):
    """A no-op ``sleep`` that remembers the delays it was asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class CountingThrottle:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def acquire(self, requests: int, tokens: int) -> None:
        self.calls.append((requests, tokens))


def client_for(server: ScriptedLLMServer, **kwargs: Any) -> OpenAIClient:
    kwargs.setdefault("sleep", Sleeps())
    kwargs.setdefault("max_retries", 5)
    return OpenAIClient(server.base_url, "test-key", server.model, **kwargs)


def test_completion_records_choices_usage_and_latency(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(lambda prompt: " one two three", latency_s=0.05)
    call = client_for(server).complete(["say four words"], GREEDY, Stage.GENERATE)
    assert call.error is None and not call.transient
    assert call.choices == (Choice(text=" one two three", finish_reason="stop"),)
    assert (call.prompt_tokens, call.completion_tokens) == (3, 3)
    assert call.latency_s >= 0.05 and call.attempts == 1
    assert (call.stage, call.model, call.api, call.prompts) == (Stage.GENERATE, "scripted-model",
                                                                "completions", ("say four words",))
    body = server.bodies[-1]
    assert body["prompt"] == "say four words" and body["temperature"] == 0.0 and body["max_tokens"] == 50
    assert "stop" not in body  # nothing to stop on: the field is omitted, not null


def test_decoding_is_mapped_to_request_fields(llm_server: ScriptedLLMServer) -> None:
    decoding = Decoding(temperature=0.7, top_p=0.5, max_tokens=9, presence_penalty=2.0,
                        frequency_penalty=0.5, stop=("\n\n",))
    client_for(llm_server).complete(["p"], decoding, Stage.GENERATE)
    body = llm_server.bodies[-1]
    assert {k: body[k] for k in ("temperature", "top_p", "max_tokens", "presence_penalty",
                                 "frequency_penalty", "stop")} == {
        "temperature": 0.7, "top_p": 0.5, "max_tokens": 9, "presence_penalty": 2.0,
        "frequency_penalty": 0.5, "stop": ["\n\n"]}


def test_several_prompts_go_in_one_request_and_map_back_by_index(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(lambda prompt: f" answer to {prompt}", reverse_choices=True)
    client = client_for(server, prompts_per_request=3)
    call = client.complete(["a", "b", "c"], GREEDY, Stage.INSTANCES)
    assert [c.text for c in call.choices] == [" answer to a", " answer to b", " answer to c"]
    assert server.requests_total == 1 and server.bodies[-1]["prompt"] == ["a", "b", "c"]
    with pytest.raises(ValueError):
        client.complete(["a", "b", "c", "d"], GREEDY, Stage.INSTANCES)


def test_chat_api_sends_one_user_message(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(lambda prompt: f"chat: {prompt}")
    client = client_for(server, api="chat", prompts_per_request=8)
    assert client.max_prompts_per_request == 1  # chat takes one prompt per request
    call = client.complete(["hello"], GREEDY, Stage.CLASSIFY)
    assert call.error is None and call.api == "chat"
    assert call.choices == (Choice(text="chat: hello", finish_reason="stop"),)
    assert server.bodies[-1]["messages"] == [{"role": "user", "content": "hello"}]


def test_429_then_500_then_ok_succeeds_on_third_attempt(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(script=["429", "500", "ok"])
    sleeps, throttle = Sleeps(), CountingThrottle()
    call = client_for(server, sleep=sleeps, throttle=throttle).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is None and call.attempts == 3 and call.choices[0].text == " echo: x"
    assert len(sleeps) == 2 and all(0.0 <= s <= 30.0 for s in sleeps)
    assert len(throttle.calls) == 3  # the limiter is asked before every attempt, retries included
    assert throttle.calls[0] == (1, len("x") // 4 + GREEDY.max_tokens)
    assert dict(server.status_counts) == {429: 1, 500: 1, 200: 1}


def test_persistent_500_returns_error_after_all_retries(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(script=["500"] * 10)
    call = client_for(server, max_retries=3).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error == "500 Internal Server Error after 4 attempts"
    assert call.attempts == 4 and call.transient and call.choices == ()
    assert server.requests_total == 4


def test_backoff_has_full_jitter_and_grows(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(script=["503"] * 6)
    sleeps = Sleeps()
    client_for(server, sleep=sleeps, max_retries=5, rng=random.Random(1)).complete(["x"], GREEDY, Stage.TAG)
    assert len(sleeps) == 5 and all(0.0 <= s <= 0.5 * 2**i for i, s in enumerate(sleeps))
    assert len(set(sleeps)) == 5  # jittered, not a fixed schedule


@pytest.mark.parametrize(("asked", "expected"), [(1.5, 1.5), (1000.0, RETRY_AFTER_CAP_S)])
def test_retry_after_is_honoured_and_capped(
    scripted_llm: ScriptedFactory, asked: float, expected: float
) -> None:
    server = scripted_llm(script=["429", "ok"], retry_after_s=asked)
    sleeps = Sleeps()
    assert client_for(server, sleep=sleeps).complete(["x"], GREEDY, Stage.GENERATE).attempts == 2
    assert sleeps == [expected]


@pytest.mark.parametrize("garbage", ["garbage-text", "garbage-schema"])
def test_garbage_body_is_retried_then_reported(scripted_llm: ScriptedFactory, garbage: str) -> None:
    server = scripted_llm(script=[garbage, "ok"])
    assert client_for(server).complete(["x"], GREEDY, Stage.GENERATE).attempts == 2
    server.push_script(*[garbage] * 3)
    call = client_for(server, max_retries=2).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is not None and call.error.startswith("malformed response")
    assert call.error.endswith("after 3 attempts") and call.attempts == 3 and call.transient


@pytest.mark.parametrize(("status", "phrase"), [("401", "Unauthorized"), ("404", "Not Found"),
                                                ("400", "Bad Request")])
def test_permanent_4xx_is_not_retried(scripted_llm: ScriptedFactory, status: str, phrase: str) -> None:
    server = scripted_llm(script=[status, "ok"])
    sleeps = Sleeps()
    call = client_for(server, sleep=sleeps).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is not None and call.error.startswith(f"{status} {phrase}: ")
    assert "scripted" in call.error  # the server's explanation is kept for the user
    assert call.attempts == 1 and not call.transient and sleeps == [] and server.requests_total == 1


def test_timeout_is_retried(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(script=["sleep:1.0", "ok"])
    call = client_for(server, timeout_s=0.3).complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is None and call.attempts == 2


def test_connection_refused_becomes_an_error_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the client connects
    client = OpenAIClient(f"http://127.0.0.1:{port}/v1", "k", "m", max_retries=2, sleep=Sleeps())
    call = client.complete(["x"], GREEDY, Stage.GENERATE)
    assert call.error is not None and call.error.startswith("connection error")
    assert call.attempts == 3 and call.transient


def test_stop_sequences_and_max_tokens_are_respected(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(lambda prompt: " 1. first task\n2. second\n\n16. never")
    client = client_for(server)
    stopped = client.complete(["x"], Decoding(0.0, 1.0, 50, stop=("\n\n", "\n16")), Stage.GENERATE)
    assert stopped.choices == (Choice(" 1. first task\n2. second", "stop"),)
    cut = client.complete(["x"], Decoding(0.0, 1.0, 3), Stage.GENERATE)
    assert cut.choices == (Choice(" 1. first task", "length"),) and cut.completion_tokens == 3


def test_more_than_four_stop_sequences_are_truncated(llm_server: ScriptedLLMServer) -> None:
    stops = ("a", "b", "c", "d", "e", "f")
    call = client_for(llm_server).complete(["x"], Decoding(0.0, 1.0, 5, stop=stops), Stage.GENERATE)
    assert call.error is None and llm_server.bodies[-1]["stop"] == list(stops[:MAX_STOP_SEQUENCES])


def test_random_faults_are_absorbed_by_retries_under_concurrency(scripted_llm: ScriptedFactory) -> None:
    server = scripted_llm(fault_rate=0.3, garbage_rate=0.1, latency_s=0.05, seed=3)
    client = client_for(server, max_retries=12)
    calls = []

    def work(i: int) -> None:
        calls.append(client.complete([f"p{i}"], GREEDY, Stage.GENERATE))

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    assert all(c.error is None for c in calls) and len(calls) == 16
    assert elapsed < server.requests_total * 0.05 / 2  # served concurrently, not one by one
    assert server.requests_total == sum(c.attempts for c in calls) > 16


def test_build_client_asks_the_endpoint_for_its_model(llm_server: ScriptedLLMServer) -> None:
    settings = Settings(llm_base_url=llm_server.base_url, llm_model=None, llm_prompts_per_request=4)
    client = build_client(settings)
    assert client.model == "scripted-model" and client.max_prompts_per_request == 4
    assert build_client(settings, model="other").model == "other"
    # The embedded server (no SELFINSTRUCT_LLM_BASE_URL) takes one prompt per request.
    embedded = build_client(Settings(llm_prompts_per_request=4), base_url=llm_server.base_url)
    assert embedded.max_prompts_per_request == 1


def test_build_client_without_model_or_endpoint_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="SELFINSTRUCT_LLM_BASE_URL"):
        build_client(Settings(llm_base_url=None))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    with pytest.raises(ConfigError, match="SELFINSTRUCT_LLM_MODEL"):
        build_client(Settings(llm_base_url=url, llm_model=None))


def test_cost_is_computed_only_when_prices_are_set() -> None:
    assert cost_usd(1000, 500, Settings()) is None
    assert cost_usd(1000, 500, Settings(llm_price_input_per_mtok=1.5)) is None
    priced = Settings(llm_price_input_per_mtok=1.5, llm_price_output_per_mtok=2.0)
    assert cost_usd(1_000_000, 500_000, priced) == pytest.approx(2.5)
    assert cost_usd(0, 0, priced) == 0.0


def test_error_text_loses_anything_that_looks_like_a_key_and_only_4xx_refusals_are_permanent() -> None:
    from generator.llm.client import is_permanent_refusal
    from generator.redaction import redact

    assert redact("bad sk-abcdef1234567 and my-own-key-42", ["my-own-key-42"]) == "bad *** and ***"
    assert redact("EMPTY key", ["EMPTY"]) == "EMPTY key"  # a placeholder is no secret
    refusals = ("401 Unauthorized: x", "404 Not Found: m", "400 Bad Request")
    assert all(is_permanent_refusal(e) for e in refusals)
    assert not any(is_permanent_refusal(e) for e in (
        "429 Too Many Requests after 6 attempts", "503 Service Unavailable after 6 attempts",
        "request timed out after 6 attempts", "connection error: refused"))
