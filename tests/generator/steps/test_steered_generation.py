"""Steered in-process rounds through the scripted endpoint: what each request aimed at is stored."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from generator.db import repository as repo
from generator.db.models import LLMRequest, Round, Task
from generator.rounds.runner import RoundRunner
from generator.steering import SteeringParams, Strategy
from generator.steering.hints import hint_sentence
from generator.steps import StepContext
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import assert_pool_is_novel, scripted_context, sqlite_url


def _run(tmp_path: Path, strategy: Strategy, target: int = 6,
         concurrency: int = 3) -> tuple[list[LLMRequest], StepContext]:
    with ScriptedLLMServer(SelfInstructResponder(seed=4, near_duplicate_rate=0.2)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, concurrency=concurrency)
        with ctx.sessions.begin() as session:
            pool = repo.get_pool(session, "default")
            round_id = repo.open_round(session, pool, target,
                                       steering=SteeringParams.round_json(SteeringParams(strategy))).id
        counts = RoundRunner(ctx).run(round_id)
    assert (counts.status, counts.complete) == ("completed", target)
    with ctx.sessions() as session:
        assert_pool_is_novel(session)
        requests = list(session.scalars(select(LLMRequest).where(LLMRequest.stage == "generate")))
        session.expunge_all()
    return requests, ctx


def _prompts(request: LLMRequest) -> list[str]:
    return json.loads(request.prompt) if request.prompt_count > 1 else [request.prompt]


def test_a_tag_hints_round_stores_the_hinted_tags_and_example_ids_of_every_prompt(tmp_path: Path) -> None:
    requests, ctx = _run(tmp_path, Strategy.TAG_HINTS)
    with ctx.sessions() as session:
        assert session.scalars(select(Round.steering)).one() == SteeringParams(Strategy.TAG_HINTS).to_json()
        instructions = dict(session.execute(select(Task.id, Task.instruction)).all())
    assert requests
    for request in requests:
        assert request.steering is not None and len(request.steering) == request.prompt_count
        for plan, prompt in zip(request.steering, _prompts(request), strict=True):
            assert plan["strategy"] == "tag-hints" and 1 <= len(plan["aimed_tags"]) <= 3
            assert hint_sentence(plan["aimed_tags"]) in prompt
            assert len(plan["example_task_ids"]) == 8
            assert all(f". {instructions[i]}\n" in prompt for i in plan["example_task_ids"])


def test_a_rare_examples_round_aims_at_the_tags_of_its_machine_examples(tmp_path: Path) -> None:
    # One request at a time and more tasks than one answer brings: later prompts show machine tasks.
    requests, ctx = _run(tmp_path, Strategy.RARE_EXAMPLES, target=12, concurrency=1)
    with ctx.sessions() as session:
        origin = dict(session.execute(select(Task.id, Task.origin)).all())
    plans = [plan for request in requests for plan in request.steering or []]
    assert plans and all(plan["strategy"] == "rare-examples" for plan in plans)
    assert all(len(plan["example_task_ids"]) == 8 for plan in plans)
    later = [plan for plan in plans if any(origin[i] == "machine" for i in plan["example_task_ids"])]
    assert later and all(plan["aimed_tags"] for plan in later)


def test_the_round_counts_fresh_tasks_without_retagging_the_pool(tmp_path: Path) -> None:
    _, ctx = _run(tmp_path, Strategy.TAG_HINTS)
    tagged: list[int] = []

    class CountingTagger:
        name = "counting"

        def tag(self, instructions: Sequence[str]) -> list[tuple[str, ...]]:
            tagged.append(len(instructions))
            return [("t",)] * len(instructions)

    coverage = ctx.coverage
    with ctx.sessions() as session:
        live = session.scalars(select(Task.id).where(Task.status.in_(repo.LIVE_STATUSES))).all()
        snapshot = coverage.snapshot(session, 1)
        assert snapshot.coverage.tagged_tasks == len(live) == len(snapshot.seeds) + len(snapshot.machine)
        coverage.tagger = CountingTagger()
        coverage.snapshot(session, 1)
    assert tagged == []  # nothing new since the last look: nothing is tagged again


def test_an_unsteered_round_stores_no_plans(tmp_path: Path) -> None:
    requests, ctx = _run(tmp_path, Strategy.NONE, target=3)
    assert requests and all(request.steering is None for request in requests)
    with ctx.sessions() as session:
        assert session.scalars(select(Round.steering)).one() is None
