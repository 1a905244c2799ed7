"""Steered fleet rounds: real workers, Redis and PostgreSQL, a scripted endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from generator.db.models import LLMRequest, Round
from generator.db.tags import untagged_tasks
from generator.steering import SteeringParams, Strategy
from generator.steering.hints import hint_sentence
from generator.steps.tagging import tag_tasks
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.fleet.invariants import assert_admission_exact, assert_no_duplicate_rows, assert_round_completed
from tests.support.pools import scripted_context
from workers.harness import fleet
from workers.schedule import ScheduleFile, beat_schedule

pytestmark = [pytest.mark.services, pytest.mark.slow, pytest.mark.timeout(180)]


def test_a_steered_fleet_round_stores_every_prompts_aims_and_admits_exactly(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=12, near_duplicate_rate=0.3)
    with ScriptedLLMServer(responder, latency_s=0.02) as server, fleet(tmp_path, server.base_url) as f:
        f.worker("w1")
        f.worker("w2")
        f.wait_ready("w1", "w2")
        # Fleet coverage reads the stored InsTag tags: the seeds are tagged first (`selfinstruct tag`).
        ctx = scripted_context(f.settings.database_url, server.base_url)
        with ctx.sessions() as session:
            seeds = untagged_tasks(session, 1)
        tag_tasks(ctx, seeds)
        round_id = f.start_round(10, steering=SteeringParams(Strategy.TAG_HINTS))
        f.wait_round(round_id, timeout_s=90)
        with f.wc.sessions() as session:
            assert_round_completed(session, round_id, 10)
            assert_no_duplicate_rows(session)
            assert_admission_exact(session)
            assert session.get_one(Round, round_id).steering == SteeringParams(Strategy.TAG_HINTS).to_json()
            requests = session.scalars(select(LLMRequest).where(LLMRequest.stage == "generate")).all()
            assert requests
            for request in requests:
                assert request.steering is not None and len(request.steering) == request.prompt_count
                plan = request.steering[0]
                assert plan["strategy"] == "tag-hints" and plan["aimed_tags"]
                assert len(plan["example_task_ids"]) == 8
                assert request.prompt_count > 1 or hint_sentence(plan["aimed_tags"]) in request.prompt


def test_a_schedule_entry_carries_its_steering_strategy(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text("rounds:\n  - {pool: p, every_minutes: 5, instructions: 20, steer: rare-examples}\n")
    from generator.settings import Settings

    entries = beat_schedule(Settings(), path)
    assert entries["selfinstruct-round-0-p"]["kwargs"]["steer"] == "rare-examples"
    plain = ScheduleFile.model_validate({"rounds": [{"every_minutes": 1, "instructions": 1}]})
    assert plain.rounds[0].steer == "none"
