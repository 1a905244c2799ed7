"""End to end: a round against a double with a prompt cache stores each request's cached tokens and
the round's counts show cached vs uncached prompt tokens and their (discounted) cost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from generator.db.models import LLMRequest
from generator.rounds.runner import RoundRunner
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import open_round, scripted_context, sqlite_url


def test_a_round_on_a_caching_endpoint_stores_and_prices_cached_prompt_tokens(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=3), prompt_cache=True) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, llm_price_input_per_mtok=1.0,
                               llm_price_output_per_mtok=1.0, llm_price_cached_input_per_mtok=0.0)
        counts = RoundRunner(ctx).run(open_round(ctx.sessions, 5))
    assert counts.status == "completed" and counts.complete == 5
    with ctx.sessions() as session:
        share = func.sum(LLMRequest.cached_tokens) * 1.0 / func.sum(LLMRequest.prompt_tokens)
        by_stage = dict(session.execute(select(LLMRequest.stage, share).group_by(LLMRequest.stage)).all())
        unknown = session.scalar(select(func.count()).where(LLMRequest.cached_tokens.is_(None),
                                                            LLMRequest.error.is_(None)))
    assert unknown == 0
    # Every classification / instance prompt after the first of its template reuses the few-shot block.
    assert by_stage["classify"] >= 0.5 and by_stage["instances"] >= 0.5
    assert 0 < counts.cached_tokens < counts.prompt_tokens
    assert counts.uncached_prompt_tokens == counts.prompt_tokens - counts.cached_tokens
    # Cached input is free here: the cost is uncached input + output at $1 per million tokens.
    expected = (counts.uncached_prompt_tokens + counts.completion_tokens) / 1e6
    assert counts.cost_usd == pytest.approx(expected)
