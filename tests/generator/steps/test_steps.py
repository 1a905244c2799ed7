"""Classification and instances run on batches of tasks: one request per batch, one retry batch,
per-task outcomes, failures that leave only their own batch pending, and no duplicate writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from generator import steps
from generator.db import repository as repo
from generator.db.models import Instance, LLMRequest, Rejection, Task
from generator.db.statuses import TaskStatus
from generator.errors import LLMTransientError
from generator.llm.openai_client import OpenAIClient
from generator.selfinstruct.instances import render_instance_prompt
from generator.steps import StepContext
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from generator.testing.services import fresh_postgres_database
from tests.support.pools import open_round, scripted_context, sqlite_url

INSTRUCTIONS = (
    "Decide whether the review of the bakery sounds happy or unhappy.",
    "Write a short poem about a quiet harbor in winter.",
    "Explain the mystery of the missing lantern to a child.",
    "Suggest three names for a village festival about cheese.",
    "Summarize the mystery novel plot in two sentences.",
)


def _mystery_is_unclear(prompt: str) -> str:
    """The scripted model, except that classification questions about a "mystery" get no answer."""
    last_task = prompt.rsplit("Task:", 1)[-1]
    if "mystery" in last_task and "classification?" in last_task:
        return " Hmm, hard to say."
    return RESPONDER(prompt)


RESPONDER = SelfInstructResponder(seed=3)


def _batched(tmp_path: Path, server: ScriptedLLMServer, per_request: int,
             max_retries: int = 2) -> StepContext:
    ctx = scripted_context(sqlite_url(tmp_path), server.base_url, max_retries=max_retries)
    ctx.settings = ctx.settings.model_copy(update={"llm_prompts_per_request": per_request})
    ctx.client = OpenAIClient(server.base_url, "k", "scripted-model", prompts_per_request=per_request,
                              max_retries=max_retries, sleep=lambda _s: None)
    return ctx


def _add_tasks(ctx: StepContext, texts: tuple[str, ...], status: str = TaskStatus.PENDING_CLASSIFICATION,
               is_classification: bool | None = None, round_id: int | None = None) -> list[int]:
    round_id = round_id or open_round(ctx.sessions, 10)
    with ctx.sessions.begin() as session:
        pool_id = repo.get_round(session, round_id).pool_id
        tasks = [Task(pool_id=pool_id, round_id=round_id, instruction=t, origin="machine", status=status,
                      instruction_hash=repo.instruction_hash(t), is_classification=is_classification)
                 for t in texts]
        session.add_all(tasks)
        session.flush()
        return [t.id for t in tasks]


def test_a_batch_is_asked_in_one_request_and_its_unparseable_answers_again_together(tmp_path: Path) -> None:
    with ScriptedLLMServer(_mystery_is_unclear) as server:
        ctx = _batched(tmp_path, server, per_request=8)
        ids = _add_tasks(ctx, INSTRUCTIONS)
        answers = steps.classify(ctx, ids)
        bodies = list(server.bodies)
    assert [len(b["prompt"]) for b in bodies] == [5, 2]  # the whole batch, then the two mysteries
    unclear = {ids[2], ids[4]}
    assert set(answers) == set(ids)
    assert all(answers[i] is None for i in unclear)
    assert all(answers[i] is not None for i in set(ids) - unclear)
    with ctx.sessions() as session:
        tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(ids)))}
        assert all(t.status == TaskStatus.PENDING_INSTANCES for t in tasks.values())
        attempts = {i: t.classification_attempts for i, t in tasks.items()}
        assert attempts == {i: 2 if i in unclear else 1 for i in ids}
        unknown = select(Rejection).where(Rejection.reason == "unknown_classification")
        rejections = session.scalars(unknown).all()
        assert {r.task_id for r in rejections} == unclear
        assert all(r.detail.count("Hmm") == 2 for r in rejections)  # both replies, as stored
        requests = session.scalars(select(LLMRequest).order_by(LLMRequest.id)).all()
        assert [r.task_ids for r in requests] == [ids, [ids[2], ids[4]]]
        assert [r.task_id for r in requests] == [None, None]
        assert [len(json.loads(r.prompt)) for r in requests] == [5, 2]


def test_batches_are_cut_at_the_prompts_per_request_and_a_rerun_writes_nothing_twice(tmp_path: Path) -> None:
    with ScriptedLLMServer(RESPONDER) as server:
        ctx = _batched(tmp_path, server, per_request=2)
        ids = _add_tasks(ctx, INSTRUCTIONS)
        first = steps.classify(ctx, ids)
        assert [len(b["prompt"]) if isinstance(b["prompt"], list) else 1 for b in server.bodies] == [2, 2, 1]
        assert steps.classify(ctx, ids) == {}  # nothing is waiting any more: no request, no write
        assert server.requests_total == 3
    with ctx.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LLMRequest)) == 3
        single = session.scalars(select(LLMRequest).where(LLMRequest.prompt_count == 1)).one()
        assert single.task_id == ids[4] and single.task_ids == [ids[4]]
    assert set(first) == set(ids)


def test_a_transient_failure_leaves_only_its_own_batch_pending(tmp_path: Path) -> None:
    with ScriptedLLMServer(RESPONDER, script=["ok", "500"]) as server:
        ctx = _batched(tmp_path, server, per_request=2, max_retries=0)
        ids = _add_tasks(ctx, INSTRUCTIONS[:4])
        with pytest.raises(LLMTransientError):
            steps.classify(ctx, ids)
        with ctx.sessions() as session:
            status = dict(session.execute(select(Task.id, Task.status).where(Task.id.in_(ids))).all())
        pending = (TaskStatus.PENDING_INSTANCES, TaskStatus.PENDING_CLASSIFICATION)
        assert status == {ids[0]: pending[0], ids[1]: pending[0], ids[2]: pending[1], ids[3]: pending[1]}
        assert set(steps.classify(ctx, ids)) == {ids[2], ids[3]}  # the redelivery asks only those two
    with ctx.sessions() as session:
        failed = session.scalars(select(LLMRequest).where(LLMRequest.error.is_not(None))).one()
        assert failed.task_ids == ids[2:]
        assert session.scalar(select(func.max(Task.classification_attempts))) == 1


def test_instances_of_a_mixed_batch_go_output_first_and_input_first_in_one_request(tmp_path: Path) -> None:
    with ScriptedLLMServer(RESPONDER) as server:
        ctx = _batched(tmp_path, server, per_request=8)
        labels = _add_tasks(ctx, INSTRUCTIONS[:2], status=TaskStatus.PENDING_INSTANCES,
                            is_classification=True)
        with ctx.sessions() as session:
            round_id = session.scalar(select(Task.round_id).where(Task.id == labels[0]))
        free = _add_tasks(ctx, INSTRUCTIONS[2:], status=TaskStatus.PENDING_INSTANCES, is_classification=False,
                          round_id=round_id)
        kept = steps.make_instances(ctx, labels + free)
        assert steps.make_instances(ctx, labels + free) == {}  # a redelivered batch writes nothing
        (body,) = server.bodies
    expected = [render_instance_prompt(t, is_classification=i < 2) for i, t in enumerate(INSTRUCTIONS)]
    assert body["prompt"] == expected
    with ctx.sessions() as session:
        stored = dict(session.execute(
            select(Instance.task_id, func.count()).where(Instance.task_id.in_(labels + free))
            .group_by(Instance.task_id)
        ).all())
        statuses = dict(session.execute(select(Task.id, Task.status).where(Task.id.in_(labels + free))).all())
    assert any(kept.values()) and {i: n for i, n in kept.items() if n} == stored
    ended = {i: TaskStatus.COMPLETE if kept[i] else TaskStatus.NO_INSTANCES for i in labels + free}
    assert all(statuses[i] == ended[i] for i in labels + free)
    assert set(kept) == set(labels + free)


@pytest.mark.services
def test_a_request_of_twenty_truncated_prompts_is_stored_whole_on_postgresql(tmp_path: Path) -> None:
    with ScriptedLLMServer(RESPONDER, truncate_rate=1.0) as server, fresh_postgres_database() as url:
        ctx = scripted_context(url, server.base_url)
        ctx.settings = ctx.settings.model_copy(update={"llm_prompts_per_request": 20})
        ctx.client = OpenAIClient(server.base_url, "k", "scripted-model", prompts_per_request=20,
                                  sleep=lambda _s: None)
        assert steps.generate(ctx, open_round(ctx.sessions, 10))
        with ctx.sessions() as session:
            request = session.scalars(select(LLMRequest)).one()
            assert request.prompt_count == 20 and request.finish_reason == ",".join(["length"] * 20)
        ctx.sessions.kw["bind"].dispose()
