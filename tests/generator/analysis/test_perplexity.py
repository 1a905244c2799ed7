from __future__ import annotations

import math

import pytest

from generator.analysis.perplexity import (
    NO_LOGPROBS,
    NO_RESPONSE_TOKENS,
    TokenLogprob,
    perplexity_prompt,
    response_perplexity,
)


def test_perplexity_averages_only_the_tokens_inside_the_response() -> None:
    tokens = [TokenLogprob(0, None), TokenLogprob(5, -3.0), TokenLogprob(10, -1.0), TokenLogprob(14, -2.0)]
    result = response_perplexity(tokens, response_start=10)
    assert result.value == pytest.approx(math.exp(1.5))
    assert result.reason is None


def test_perplexity_is_null_with_a_reason_when_the_endpoint_gave_no_logprobs() -> None:
    assert response_perplexity(None, 0).value is None
    assert response_perplexity([], 0).reason == NO_LOGPROBS
    assert (
        response_perplexity([TokenLogprob(0, None), TokenLogprob(3, -1.0)], 10).reason == NO_RESPONSE_TOKENS
    )


def test_perplexity_refuses_infinite_logprobs() -> None:
    result = response_perplexity([TokenLogprob(4, float("-inf"))], 0)
    assert result.value is None and "non-finite" in (result.reason or "")


def test_tokens_generated_after_the_echoed_prompt_are_not_counted() -> None:
    tokens = [TokenLogprob(0, None), TokenLogprob(4, -2.0), TokenLogprob(8, -9.0)]
    assert response_perplexity(tokens, 4, response_end=8).value == pytest.approx(math.exp(2.0))


def test_the_prompt_puts_the_output_last_and_says_where_it_starts() -> None:
    prompt, start = perplexity_prompt("Add the numbers.", "2 3", "5")
    assert prompt == "Add the numbers.\n\nInput: 2 3\n\nOutput: 5"
    assert prompt[start:] == "5"
    assert perplexity_prompt("Name a colour.", "", "Red")[0] == "Name a colour.\n\nOutput: Red"
