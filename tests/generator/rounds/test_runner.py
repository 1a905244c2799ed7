"""Full in-process rounds through a scripted OpenAI-compatible server and the real openai client."""

from __future__ import annotations

import json
from pathlib import Path
from threading import Event

from sqlalchemy import func, select

from generator.db.models import Candidate, Instance, LLMRequest, Rejection, Round, Task
from generator.db.stats import RoundCounts
from generator.rounds.runner import RoundRunner
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import (
    assert_pool_is_novel,
    attempts_recorded,
    open_round,
    scripted_context,
    sqlite_url,
)


def test_a_round_completes_with_novel_classified_instructions_that_have_instances(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=3, near_duplicate_rate=0.3, blacklisted_rate=0.2)
    with ScriptedLLMServer(responder) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        round_id = open_round(ctx.sessions, 8)
        counts = RoundRunner(ctx).run(round_id)
        received = server.requests_total
    assert (counts.status, counts.end_reason, counts.complete) == ("completed", "target", 8)
    with ctx.sessions() as session:
        machine = session.scalars(select(Task).where(Task.origin == "machine")).all()
        assert len(machine) >= 8
        assert all(t.is_classification is not None for t in machine)
        complete = [t for t in machine if t.status == "complete"]
        assert len(complete) == 8 and all(t.instances for t in complete)
        assert all(t.nearest_task_id is not None and t.nearest_score is not None for t in machine)
        assert_pool_is_novel(session)
        assert attempts_recorded(session) == received
        reasons = dict(
            session.execute(select(Rejection.reason, func.count()).group_by(Rejection.reason)).all()
        )
        assert reasons.get("too_similar", 0) > 0 and reasons.get("blacklisted", 0) > 0
        similar = session.scalars(select(Rejection).where(Rejection.reason == "too_similar")).first()
        assert similar is not None and similar.nearest_text and similar.nearest_score >= 0.7
        assert (
            session.scalar(select(func.count()).select_from(Candidate).where(Candidate.status == "pending"))
            == 0
        )


def test_a_round_survives_rate_limits_server_errors_garbage_and_truncation(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=5, garbage_rate=0.15)
    with ScriptedLLMServer(responder, fault_rate=0.3, garbage_rate=0.1, truncate_rate=0.2, seed=9) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, max_retries=8)
        counts = RoundRunner(ctx).run(open_round(ctx.sessions, 6))
        received, statuses = server.requests_total, dict(server.status_counts)
    assert counts.status == "completed" and counts.complete == 6
    assert statuses.get(429, 0) + statuses.get(500, 0) > 0
    with ctx.sessions() as session:
        assert attempts_recorded(session) == received
        assert session.scalar(select(func.max(LLMRequest.attempts))) > 1
        reasons = set(session.scalars(select(Rejection.reason).distinct()))
        assert {"truncated", "unparseable"} & reasons
        assert_pool_is_novel(session)


def test_an_interrupted_round_resumes_without_losing_or_duplicating(tmp_path: Path) -> None:
    responder = SelfInstructResponder(seed=7)
    with ScriptedLLMServer(responder, latency_s=0.02) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        round_id = open_round(ctx.sessions, 10)
        stop = Event()

        def stop_midway(counts: RoundCounts) -> None:
            if counts.admitted >= 3:
                stop.set()

        first = RoundRunner(ctx, progress=stop_midway, stop=stop, progress_interval_s=0).run(round_id)
        assert first.status == "running" and first.complete < 10
        second = RoundRunner(ctx).run(round_id)
    assert second.status == "completed" and second.complete == 10
    with ctx.sessions() as session:
        hashes = session.scalars(select(Task.instruction_hash)).all()
        assert len(hashes) == len(set(hashes))
        per_task = session.execute(
            select(Instance.task_id, Instance.position, func.count()).group_by(
                Instance.task_id, Instance.position
            )
        ).all()
        assert all(n == 1 for *_, n in per_task)
        assert session.scalar(select(func.count()).select_from(Round)) == 1
        assert_pool_is_novel(session)


def test_a_round_stops_at_its_token_budget(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=11)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        with ctx.sessions.begin() as session:
            from generator.db import repository as repo

            rnd = repo.open_round(session, repo.get_pool(session, "default"), 1000, budget_tokens=1500)
            round_id = rnd.id
        counts = RoundRunner(ctx).run(round_id)
    assert (counts.status, counts.end_reason) == ("completed", "budget")
    assert counts.complete < 1000


def test_exported_rows_are_alpaca_records(tmp_path: Path) -> None:
    from generator.db import repository as repo
    from generator.db.stats import alpaca_rows

    with ScriptedLLMServer(SelfInstructResponder(seed=2)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        RoundRunner(ctx).run(open_round(ctx.sessions, 3))
    with ctx.sessions() as session:
        rows = alpaca_rows(session, repo.get_pool(session, "default"))
    assert rows and all(set(r) == {"instruction", "input", "output"} for r in rows)
    assert json.loads(json.dumps(rows)) == rows


def test_several_prompts_go_in_one_completions_request_and_are_stored_as_one_row(tmp_path: Path) -> None:
    from generator.llm.openai_client import OpenAIClient

    with ScriptedLLMServer(SelfInstructResponder(seed=13)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        ctx.settings = ctx.settings.model_copy(update={"llm_prompts_per_request": 3})
        ctx.client = OpenAIClient(
            server.base_url, "k", "scripted-model", prompts_per_request=3, sleep=lambda _s: None
        )
        counts = RoundRunner(ctx).run(open_round(ctx.sessions, 8))
        bodies = list(server.bodies)
    assert counts.status == "completed" and counts.complete >= 8
    assert all(len(b["prompt"]) <= 3 for b in bodies if isinstance(b.get("prompt"), list))
    with ctx.sessions() as session:
        rows = session.scalars(select(LLMRequest).where(LLMRequest.stage == "generate")).all()
        assert rows and all(r.prompt_count == 3 for r in rows)
        assert all(len(json.loads(r.prompt)) == 3 and len(json.loads(r.response or "[]")) == 3 for r in rows)
        # Classification and instances go in batches too, each request naming its tasks in prompt order.
        for stage in ("classify", "instances"):
            rows = session.scalars(select(LLMRequest).where(LLMRequest.stage == stage)).all()
            assert any(r.prompt_count > 1 for r in rows), stage
            for r in rows:
                assert r.task_ids is not None and len(r.task_ids) == r.prompt_count
                prompts = json.loads(r.prompt) if r.prompt_count > 1 else [r.prompt]
                for task_id, prompt in zip(r.task_ids, prompts, strict=True):
                    task = session.get(Task, task_id)
                    assert task is not None and task.instruction in prompt
                assert r.task_id == (r.task_ids[0] if r.prompt_count == 1 else None)
        # Every machine task was asked once (or twice) and ended with an outcome.
        tasks = session.scalars(select(Task).where(Task.origin == "machine")).all()
        assert tasks and all(t.status in ("complete", "no_instances") for t in tasks)
        assert all(t.classification_attempts in (1, 2) for t in tasks)


def test_answers_in_no_usable_shape_fail_the_round_for_no_progress_stored_capped(tmp_path: Path) -> None:
    from generator.db.rows import RESPONSE_CAP_CHARS
    from generator.rounds.policy import FRUITLESS_GENERATES

    with ScriptedLLMServer(lambda _prompt: "z" * 100_000) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        counts = RoundRunner(ctx).run(open_round(ctx.sessions, 5))
    assert (counts.status, counts.end_reason) == ("failed", "error")
    assert counts.error is not None and counts.error.startswith("no progress: the last 50 generate requests")
    with ctx.sessions() as session:
        generates = session.scalar(select(func.count()).where(LLMRequest.stage == "generate"))
        # Stopped within a few requests of the rule (those in flight or sent within the same poll when it
        # triggered), not after the thousands an endless round sends.
        assert FRUITLESS_GENERATES <= generates <= FRUITLESS_GENERATES + 4 * ctx.settings.llm_concurrency
        longest = session.scalar(select(func.max(func.length(LLMRequest.response))))
        assert RESPONSE_CAP_CHARS < longest < RESPONSE_CAP_CHARS + 100
        assert session.scalar(select(func.max(func.length(Rejection.text)))) < RESPONSE_CAP_CHARS + 100


def test_a_refusing_endpoint_fails_the_round_after_three_requests_with_the_message_and_no_key(
    tmp_path: Path,
) -> None:
    from generator.llm.openai_client import OpenAIClient

    with ScriptedLLMServer(SelfInstructResponder(seed=4), api_key="the-right-key") as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, concurrency=1)
        ctx.client = OpenAIClient(server.base_url, "sk-wrong-but-secret-1234", "scripted-model",
                                  sleep=lambda _s: None)
        counts = RoundRunner(ctx).run(open_round(ctx.sessions, 5))
        sent = server.requests_total
    assert (counts.status, counts.end_reason, sent) == ("failed", "error", 3)
    assert counts.error == ("the endpoint refused 3 generate requests in a row: 401 Unauthorized: "
                            "Error code: 401 - Incorrect API key provided: ***")
    with ctx.sessions() as session:
        assert all("secret" not in (e or "") for e in session.scalars(select(LLMRequest.error)))


def test_a_broker_outage_fails_the_round_naming_the_broker_not_the_llm(tmp_path: Path) -> None:
    import redis

    from generator.llm.openai_client import OpenAIClient
    from generator.llm.ratelimit import RedisThrottle

    dead = redis.Redis(host="127.0.0.1", port=9, socket_connect_timeout=0.2)
    throttle = RedisThrottle(dead, "test", rpm=60, tpm=None, unavailable_grace_s=0.0, sleep=lambda _s: None)
    with ScriptedLLMServer(SelfInstructResponder(seed=5)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, concurrency=1)
        ctx.client = OpenAIClient(server.base_url, "k", "scripted-model", throttle=throttle)
        counts = RoundRunner(ctx).run(open_round(ctx.sessions, 5))
    assert (counts.status, counts.end_reason) == ("failed", "error")
    assert counts.error is not None and counts.error.startswith("5 stage tasks failed; the last, generate: ")
    assert "BrokerUnavailableError" in counts.error and "Redis unreachable" in counts.error
