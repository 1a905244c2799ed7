"""Cached prompt tokens: read from ``usage.prompt_tokens_details.cached_tokens`` when reported (None
when not), and priced with SELFINSTRUCT_LLM_PRICE_CACHED_INPUT_PER_MTOK."""

from __future__ import annotations

from typing import Any

import pytest

from generator.llm.openai_client import OpenAIClient, _usage
from generator.llm.pricing import cost_usd
from generator.records import Stage
from generator.selfinstruct.params import Decoding
from generator.settings import Settings
from tests.conftest import ScriptedFactory

GREEDY = Decoding(temperature=0.0, top_p=1.0, max_tokens=20)
PREFIX = "a long static few-shot block of ten words goes here "


def _client(base_url: str) -> OpenAIClient:
    return OpenAIClient(base_url, "k", "scripted-model", max_retries=0)


def test_a_double_with_a_prompt_cache_reports_the_repeated_prefix_as_cached(
    scripted_llm: ScriptedFactory,
) -> None:
    server = scripted_llm(lambda prompt: " ok", prompt_cache=True)
    client = _client(server.base_url)
    first = client.complete([PREFIX + "task one"], GREEDY, Stage.CLASSIFY)
    second = client.complete([PREFIX + "task two here"], GREEDY, Stage.CLASSIFY)
    assert (first.prompt_tokens, first.cached_tokens) == (12, 0)
    assert (second.prompt_tokens, second.cached_tokens) == (13, 11)  # "task" is shared too


def test_an_endpoint_that_does_not_report_cached_tokens_leaves_them_unknown(
    scripted_llm: ScriptedFactory,
) -> None:
    server = scripted_llm(lambda prompt: " ok")
    call = _client(server.base_url).complete([PREFIX], GREEDY, Stage.CLASSIFY)
    assert call.error is None and call.cached_tokens is None


@pytest.mark.parametrize(("usage", "cached"), [
    ({"prompt_tokens": 9, "prompt_tokens_details": {"cached_tokens": 4}}, 4),
    ({"prompt_tokens": 9, "prompt_tokens_details": {"cached_tokens": 0}}, 0),
    ({"prompt_tokens": 9, "prompt_tokens_details": None}, None),
    ({"prompt_tokens": 9, "prompt_tokens_details": {"cached_tokens": "4"}}, None),
    ({"prompt_tokens": 9, "prompt_tokens_details": {"cached_tokens": -1}}, None),
    ({"prompt_tokens": 9}, None),
])
def test_cached_tokens_are_read_defensively(usage: dict[str, Any], cached: int | None) -> None:
    assert _usage({"usage": usage})[2] == cached


def test_cached_tokens_are_charged_the_cached_price_when_one_is_set() -> None:
    priced = Settings(llm_price_input_per_mtok=2.0, llm_price_output_per_mtok=8.0)
    assert cost_usd(1_000_000, 0, priced, cached_tokens=500_000) == pytest.approx(2.0)
    discounted = Settings(llm_price_input_per_mtok=2.0, llm_price_output_per_mtok=8.0,
                          llm_price_cached_input_per_mtok=0.5)
    assert cost_usd(1_000_000, 1_000_000, discounted, cached_tokens=500_000) == pytest.approx(9.25)
    assert cost_usd(1_000_000, 0, discounted, cached_tokens=None) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="exceed"):
        cost_usd(10, 0, discounted, cached_tokens=11)
