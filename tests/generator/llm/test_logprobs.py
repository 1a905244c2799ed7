"""Prompt log-probabilities for perplexity: parsing legacy-format answers, and the real embedded model."""

from __future__ import annotations

import importlib.util

import pytest

from generator.analysis.perplexity import NO_LOGPROBS, TokenLogprob, perplexity_prompt, response_perplexity
from generator.llm.logprobs import EchoLogprobs, parse_logprobs
from generator.settings import Settings


def test_legacy_logprobs_are_read_with_their_offsets() -> None:
    data = {
        "choices": [
            {"logprobs": {"tokens": ["Hi", " there"], "token_logprobs": [None, -1.5], "text_offset": [0, 2]}}
        ]
    }
    assert parse_logprobs(data, "Hi there") == ([TokenLogprob(0, None), TokenLogprob(2, -1.5)], None)


def test_offsets_are_rebuilt_from_token_texts_when_missing() -> None:
    data = {"choices": [{"logprobs": {"tokens": ["ab", "c", "de"], "token_logprobs": [None, -1.0, -2.0]}}]}
    tokens, _ = parse_logprobs(data, "abcde")
    assert [t.offset for t in tokens or []] == [0, 2, 3]


def test_an_answer_without_logprobs_gives_the_reason() -> None:
    assert parse_logprobs({"choices": [{"text": "x", "logprobs": None}]}, "p") == (None, NO_LOGPROBS)
    assert parse_logprobs({"nothing": 1}, "p")[0] is None


@pytest.mark.embedded
@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama-cpp-python is not installed")
def test_the_embedded_model_finds_a_fluent_answer_less_perplexing_than_word_salad() -> None:
    from generator.llm.embedded import EmbeddedServer

    settings = Settings(llm_base_url=None, llm_model=None, embedded_startup_timeout_s=180)
    with EmbeddedServer(settings, logprobs=True) as server:  # as `selfinstruct quality` starts it
        source = EchoLogprobs(server.base_url, settings.api_key, server.model)
        values = []
        for output in ("Paris is the capital of France.", "banana purple seventeen quickly the"):
            prompt, start = perplexity_prompt("Name the capital of France.", "", output)
            tokens, reason = source.prompt_logprobs(prompt)
            assert reason is None and tokens, reason
            result = response_perplexity(tokens, start, len(prompt))
            assert result.value is not None
            values.append(result.value)
    assert 1.0 < values[0] < values[1]
