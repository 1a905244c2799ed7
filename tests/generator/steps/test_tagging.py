"""The tag step stores requests, tags and failures in one go, and tags nothing twice."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import func, select

from generator.db import tags
from generator.db.models import LLMRequest, TaskTag, TaskTagging
from generator.db.tags import UntaggedTask
from generator.errors import LLMTransientError
from generator.instag.prompts import render_query
from generator.steps.context import StepContext, batch_size
from generator.steps.driver import drive
from generator.steps.tagging import Tagging, tag_tasks, tagger_for
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import scripted_context, sqlite_url

RESPONDER = SelfInstructResponder(seed=3)
TABLES = (TaskTagging, TaskTag, LLMRequest)


REFUSED: set[str] = set()


def _refuses_some(prompt: str) -> str:
    """The scripted model, except that the queries in REFUSED never get JSON."""
    if any(query.splitlines()[0] in prompt.rsplit("Query:", 1)[-1] for query in REFUSED):
        return " I would rather not."
    return RESPONDER(prompt)


def test_seeds_are_tagged_failures_keep_the_raw_answer_and_a_rerun_tags_nothing(tmp_path: Path) -> None:
    with ScriptedLLMServer(_refuses_some) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        with ctx.sessions() as session:
            todo = tags.untagged_tasks(session, 1)[:12]
        refused = [todo[1], todo[7]]
        REFUSED.update(render_query(t.instruction, t.first_input) for t in refused)
        counts = tag_tasks(ctx, todo, chunk=5)
        assert counts == {"tagged": len(todo) - len(refused), "failed": len(refused), "transient": 0}
        assert tag_tasks(ctx, []) == {"tagged": 0, "failed": 0, "transient": 0}
        with ctx.sessions() as session:
            left = {t.task_id for t in tags.untagged_tasks(session, 1)}
            assert left.isdisjoint(t.task_id for t in todo)
            failed = session.scalars(select(TaskTagging).where(TaskTagging.status == "failed")).all()
            assert [(f.failure_reason, f.raw, f.attempts) for f in failed] == [
                ("not_json", " I would rather not.", 2)] * len(refused)
            assert session.scalar(select(func.count()).select_from(TaskTag)) >= len(todo) - len(refused)
            assert session.scalar(select(func.count()).select_from(LLMRequest)
                                  .where(LLMRequest.stage == "tag")) >= 3


def test_an_endpoint_down_leaves_tasks_untagged_and_raises_transient(tmp_path: Path) -> None:
    with ScriptedLLMServer(RESPONDER) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, max_retries=0)
        with ctx.sessions() as session:
            todo = tags.untagged_tasks(session, 1)[:2]
        server.push_script("503", "503")
        with pytest.raises(LLMTransientError):
            tag_tasks(ctx, todo)
        with ctx.sessions() as session:
            assert session.scalar(select(func.count()).select_from(TaskTagging)) == 0
            assert session.scalar(select(func.count()).select_from(LLMRequest)) >= 1


def test_a_delivery_that_lost_the_race_writes_no_tagging_and_no_tag_but_keeps_its_request(
    tmp_path: Path,
) -> None:
    with ScriptedLLMServer(RESPONDER) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url)
        with ctx.sessions() as session:
            todo = tags.untagged_tasks(session, 1)[:3]

        class Stale(Tagging):
            """Opened its tasks before another delivery tagged them."""

            def open(self, ctx: StepContext, task_ids: Sequence[int]) -> list[UntaggedTask]:
                return list(todo)

        assert tag_tasks(ctx, todo)["tagged"] == 3
        with ctx.sessions() as session:
            before = [session.scalar(select(func.count()).select_from(m)) for m in TABLES]
        run = drive(ctx, Stale(tagger_for(ctx)), [t.task_id for t in todo])
        with ctx.sessions() as session:
            after = [session.scalar(select(func.count()).select_from(m)) for m in TABLES]
    assert run.outcomes == {} and run.left_waiting == 0
    assert after == [before[0], before[1], (before[2] or 0) + math.ceil(len(todo) / batch_size(ctx))]
