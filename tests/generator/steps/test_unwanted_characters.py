"""A completion carrying NUL or control characters is stored (visibly replaced) and its
instructions rejected with a reason, on SQLite and on PostgreSQL: the request row is never lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from generator import steps
from generator.db import repository as repo
from generator.db.models import Candidate, LLMRequest, Rejection, Task
from generator.records import Reason
from generator.steps.admission import PoolIndex, admit_pending
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.services import fresh_postgres_database
from tests.support.pools import open_round, scripted_context, sqlite_url

BAD = "Describe the weather\x00 on a windy autumn day."


def _completion(prompt: str) -> str:
    return f" {BAD}\n9. Name three birds that\x1b[0m live near rivers."


def _generate_on(url: str) -> None:
    with ScriptedLLMServer(_completion) as server:
        ctx = scripted_context(url, server.base_url, max_retries=0)
        round_id = open_round(ctx.sessions, 5)
        steps.generate(ctx, round_id)
    with ctx.sessions() as session:
        request = session.scalars(select(LLMRequest).where(LLMRequest.round_id == round_id)).one()
        assert request.response is not None and "\ufffd on a windy" in request.response
        assert "\x00" not in request.response and request.error is None
        texts = session.scalars(select(Candidate.text).where(Candidate.round_id == round_id)).all()
    assert texts and all("\x00" not in t and "\x1b" not in t for t in texts)
    # Admission then rejects them: they never become pool instructions.
    with ctx.sessions.begin() as session:
        rnd = repo.get_round(session, round_id)
        index = PoolIndex(rnd.pool_id, ctx.params.rouge_threshold)
        admit_pending(session, rnd, index, ctx.params, 0)
    with ctx.sessions() as session:
        machine = session.scalars(select(Task.instruction).where(Task.origin == "machine")).all()
        reasons = session.scalars(select(Rejection.reason).where(Rejection.round_id == round_id)).all()
    assert machine == []
    assert reasons.count(str(Reason.CONTROL_CHARACTERS)) == len(texts)
    ctx.sessions.kw["bind"].dispose()


def test_nul_in_a_completion_is_stored_replaced_on_sqlite(tmp_path: Path) -> None:
    _generate_on(sqlite_url(tmp_path))


@pytest.mark.services
def test_nul_in_a_completion_is_stored_replaced_on_postgresql() -> None:
    with fresh_postgres_database() as url:
        _generate_on(url)
