"""Steered in-process rounds through the scripted endpoint: what each request aimed at is stored."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from generator.db import repository as repo
from generator.db.models import LLMRequest, Round, Task, TaskTagging
from generator.db.statuses import LIVE_STATUSES
from generator.db.tags import tagged_tasks, untagged_tasks
from generator.rounds.runner import RoundRunner
from generator.steering import SteeringParams, Strategy
from generator.steering.hints import hint_sentence
from generator.steering.incremental import rule_form
from generator.steps import StepContext
from generator.steps.tagging import tag_tasks
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import assert_pool_is_novel, scripted_context, sqlite_url


def _run(tmp_path: Path, strategy: Strategy, target: int = 6, concurrency: int = 3,
         pretag: bool = True) -> tuple[list[LLMRequest], StepContext]:
    """A steered round on a fresh pool whose seeds were tagged first (InsTag, through the double)."""
    with ScriptedLLMServer(SelfInstructResponder(seed=4, near_duplicate_rate=0.2)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, concurrency=concurrency)
        with ctx.sessions.begin() as session:
            pool = repo.get_pool(session, "default")
            round_id = repo.open_round(session, pool, target,
                                       steering=SteeringParams.round_json(SteeringParams(strategy))).id
            seeds = untagged_tasks(session, pool.id)
        if pretag:
            tag_tasks(ctx, seeds)
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


def test_a_steered_round_tags_its_completed_tasks_through_the_instag_tagger(tmp_path: Path) -> None:
    # Seeds untagged: every tag the policy knows comes from the round's own tagging.
    requests, ctx = _run(tmp_path, Strategy.TAG_HINTS, target=8, concurrency=1, pretag=False)
    with ctx.sessions() as session:
        round_tasks = set(session.scalars(select(Task.id).where(Task.origin == "machine")))
        tag_requests = session.scalars(select(LLMRequest).where(LLMRequest.stage == "tag",
                                                                LLMRequest.round_id.is_not(None))).all()
        tagged = set(session.scalars(select(TaskTagging.task_id).where(TaskTagging.task_id.in_(round_tasks))))
        stored = {t.task_id: t.tags for t in tagged_tasks(session, 1) if t.task_id in tagged}
    assert tag_requests and tagged and tagged <= round_tasks
    assert {i for r in tag_requests for i in r.task_ids or []} == tagged
    round_tags = {rule_form(tag) for tags in stored.values() for tag in tags}
    hinted = {tag for r in requests for plan in r.steering or [] for tag in plan["aimed_tags"]}
    assert hinted and hinted <= round_tags
    first = requests[0].steering or []
    assert first and first[0]["aimed_tags"] == []  # nothing was tagged yet: the plain prompt


def test_the_counts_are_the_stored_tags_of_live_tasks_read_once(tmp_path: Path) -> None:
    _, ctx = _run(tmp_path, Strategy.TAG_HINTS)
    with ctx.sessions() as session:
        expected = {t.task_id: {rule_form(tag) for tag in t.tags} for t in tagged_tasks(session, 1)}
        live = set(session.scalars(select(Task.id).where(Task.status.in_(LIVE_STATUSES))))
        snapshot = ctx.coverage.snapshot(session, 1)
        again = ctx.coverage.snapshot(session, 1)
    assert snapshot.coverage.tagged_tasks == len(expected) and set(expected) <= live
    assert {t: set(tags) for t, tags in snapshot.coverage.task_tags.items()} == expected
    assert again.coverage is snapshot.coverage  # nothing new since the last look: nothing recounted


def test_without_tags_a_round_is_steered_by_nothing_rather_than_by_a_silent_stand_in(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=4)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        with ctx.sessions() as session:
            snapshot = ctx.coverage.snapshot(session, 1)
    assert ctx.coverage.reads_stored_tags and snapshot.coverage.tagged_tasks == 0
    assert len(snapshot.seeds) == 175


def test_an_unsteered_round_stores_no_plans(tmp_path: Path) -> None:
    requests, ctx = _run(tmp_path, Strategy.NONE, target=3)
    assert requests and all(request.steering is None for request in requests)
    with ctx.sessions() as session:
        assert session.scalars(select(Round.steering)).one() is None
