"""Round control against real Redis and PostgreSQL: scheduled starts, cancel, deadline, budget."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from generator.db.models import Round, Task
from generator.errors import RoundStateError
from generator.rounds.ending import cancel_round
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from workers import control
from workers.harness import Fleet, fleet
from workers.schedule import start_scheduled_round

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]


def _round(f: Fleet, round_id: int) -> Round:
    with f.wc.sessions() as session:
        rnd = session.get(Round, round_id)
        assert rnd is not None
        return rnd


def test_scheduled_starts_skip_busy_and_full_pools_and_rounds_end_at_deadline(tmp_path: Path) -> None:
    with fleet(tmp_path, "http://127.0.0.1:9/v1") as f:  # no worker: messages just queue up
        first = start_scheduled_round(f.wc, "default", 10, None, None, None)
        assert first is not None and _round(f, first).mode == "fleet" and _round(f, first).target == 10
        assert start_scheduled_round(f.wc, "default", 10, None, None, None) is None  # still running
        cancel_round(f.wc.sessions, first)
        assert (_round(f, first).status, _round(f, first).end_reason) == ("cancelled", "cancelled")
        with pytest.raises(RoundStateError, match="not running"):
            cancel_round(f.wc.sessions, first)
        with f.wc.sessions() as session:
            size = int(session.scalar(select(func.count()).select_from(Task)) or 0)
        assert start_scheduled_round(f.wc, "default", 10, size, None, None) is None  # the pool is full
        late = start_scheduled_round(f.wc, "default", 10, size + 3, 500, 0.0001)
        assert late is not None and _round(f, late).target == 3 and _round(f, late).budget_tokens == 500
        time.sleep(0.05)
        assert control.tick(f.wc, late) == "completed"
        assert _round(f, late).end_reason == "deadline"
        assert control.tick_all(f.wc) == {}


@pytest.mark.slow
def test_a_round_ends_at_its_token_budget(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=61), latency_s=0.05) as server, \
            fleet(tmp_path, server.base_url) as f:
        f.worker("w1")
        f.wait_ready("w1")
        round_id = f.start_round(1000, budget_tokens=3000)
        counts = f.wait_round(round_id, timeout_s=60)
    assert (counts.status, counts.end_reason) == ("completed", "budget")
    # Overshoot is bounded by the requests in flight when the budget was crossed (generate ~1.5k tokens each).
    assert 3000 <= counts.tokens <= 3000 + 4 * 2000, counts.tokens
    assert counts.complete < 1000


def test_a_round_whose_tasks_keep_failing_for_good_fails_and_says_why(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=62), latency_s=0.02) as server, \
            fleet(tmp_path, server.base_url) as f:
        # Bad data the pipeline cannot store: the database refuses every instances request row.
        with f.wc.sessions.begin() as session:
            session.execute(text(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql"))
            session.execute(text(
                "CREATE TRIGGER refuse_instances BEFORE INSERT ON llm_requests FOR EACH ROW "
                "WHEN (NEW.stage = 'instances') EXECUTE FUNCTION refuse()"))
        f.worker("w1")
        f.wait_ready("w1")
        round_id = f.start_round(10)
        counts = f.wait_round(round_id, timeout_s=60)
        rnd = _round(f, round_id)
    assert (counts.status, counts.end_reason) == ("failed", "error")
    assert rnd.error is not None and "refused by the test" in rnd.error, rnd.error
    assert counts.complete == 0
