"""Fleet rounds end to end: real workers, beat, Redis and PostgreSQL, a scripted endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from generator.db.models import LLMRequest
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import (
    assert_admission_exact,
    assert_no_duplicate_rows,
    assert_round_completed,
    lost_requests,
)
from workers.harness import fleet

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]


def test_a_fleet_round_completes_with_the_pool_invariants_under_a_shared_rate_limit(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=11, near_duplicate_rate=0.3, blacklisted_rate=0.2)
    with ScriptedLLMServer(responder, latency_s=0.02) as server, \
            fleet(tmp_path, server.base_url, rate_limit_rpm=600) as f:  # 10 requests/s for the whole fleet
        f.worker("w1")
        f.worker("w2")
        f.wait_ready("w1", "w2")
        round_id = f.start_round(12)
        counts = f.wait_round(round_id, timeout_s=90)
        received = server.requests_total
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 12)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
            assert lost_requests(session, received) == 0
            stamps = select(func.min(LLMRequest.created_at), func.max(LLMRequest.created_at))
            first, last = session.execute(stamps).one()
        limiter_keys = f.wc.hints.redis.keys("selfinstruct:ratelimit:*")
    assert counts.complete == 12 and counts.rejected.get("too_similar", 0) > 0
    assert limiter_keys  # the workers' clients went through the Redis throttle
    # 4 processes at 20 ms per request could send ~200/s; the fleet-wide limit holds them to 10/s (+ burst).
    assert received <= 10 * (last - first).total_seconds() + 10 + 4, (received, last - first)
