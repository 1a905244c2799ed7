"""``--classify-per-prompt K``: several tasks judged in one chat prompt, the same answers as one task per
prompt, a malformed JSON answer asked again per task, and the refusal on base models."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from generator import steps
from generator.db import repository as repo
from generator.db.models import LLMRequest, Rejection, Task
from generator.db.statuses import TaskStatus
from generator.errors import ConfigError
from generator.llm.openai_client import OpenAIClient
from generator.selfinstruct.classification import MULTI_MARKER
from generator.settings import Settings
from generator.steps import StepContext
from generator.steps.classification import classify_per_prompt
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import open_round, scripted_context, sqlite_url

TEXTS = tuple(f"Decide whether review number {n} of the bakery sounds happy." for n in range(5)) + tuple(
    f"Write a short poem about harbor number {n} in winter." for n in range(5))
RESPONDER = SelfInstructResponder(seed=3)


def _chat(tmp_path: Path, server: ScriptedLLMServer, per_prompt: int, name: str) -> StepContext:
    (tmp_path / name).mkdir(exist_ok=True)
    ctx = scripted_context(sqlite_url(tmp_path / name), server.base_url, llm_api="chat",
                           classify_per_prompt=per_prompt)
    ctx.client = OpenAIClient(server.base_url, "k", "scripted-model", api="chat", max_retries=1,
                              sleep=lambda _s: None)
    return ctx


def _classify_all(ctx: StepContext) -> tuple[list[bool | None], list[LLMRequest]]:
    round_id = open_round(ctx.sessions, 20)
    with ctx.sessions.begin() as session:
        pool_id = repo.get_round(session, round_id).pool_id
        tasks = [Task(pool_id=pool_id, round_id=round_id, instruction=t, origin="machine",
                      status=TaskStatus.PENDING_CLASSIFICATION, instruction_hash=repo.instruction_hash(t))
                 for t in TEXTS]
        session.add_all(tasks)
        session.flush()
        ids = [t.id for t in tasks]
    answers = steps.classify(ctx, ids)
    with ctx.sessions() as session:
        requests = list(session.scalars(select(LLMRequest).where(LLMRequest.stage == "classify")))
        session.expunge_all()
    return [answers[i] for i in ids], requests


def test_four_tasks_per_prompt_give_the_single_task_answers_in_a_quarter_of_the_requests(
        tmp_path: Path) -> None:
    with ScriptedLLMServer(RESPONDER) as server:
        single, single_requests = _classify_all(_chat(tmp_path, server, 1, "one"))
        grouped, grouped_requests = _classify_all(_chat(tmp_path, server, 4, "four"))
    assert None not in single and True in single and False in single
    assert grouped == single
    assert (len(single_requests), len(grouped_requests)) == (10, 3)  # 4 + 4 + 2 tasks
    assert all(MULTI_MARKER in r.prompt for r in grouped_requests)
    assert sum(r.prompt_tokens for r in grouped_requests) < sum(r.prompt_tokens for r in single_requests)


def test_a_malformed_json_answer_is_asked_again_task_by_task_and_never_crashes(tmp_path: Path) -> None:
    def broken_json(prompt: str) -> str:
        return '{"1": "Yes", "2": ' if MULTI_MARKER in prompt else RESPONDER(prompt)

    with ScriptedLLMServer(RESPONDER) as reference, ScriptedLLMServer(broken_json) as server:
        expected, _ = _classify_all(_chat(tmp_path, reference, 1, "one"))
        answers, requests = _classify_all(_chat(tmp_path, server, 5, "five"))
        ctx = _chat(tmp_path, server, 5, "five")
    assert answers == expected
    assert [MULTI_MARKER in r.prompt for r in requests] == [True, True] + [False] * 10
    with ctx.sessions() as session:
        attempts = set(session.scalars(select(Task.classification_attempts).where(Task.origin == "machine")))
        assert attempts == {2} and session.scalar(select(Rejection.id)) is None


def test_a_task_whose_fallback_answer_also_fails_is_stored_unknown_with_a_rejection(tmp_path: Path) -> None:
    def unclear_poems(prompt: str) -> str:
        if MULTI_MARKER in prompt:
            return '{"1": "Yes"}'  # only the first task of each prompt is answered
        return " Hmm." if "poem" in prompt.rsplit("Task:", 1)[-1] else RESPONDER(prompt)

    with ScriptedLLMServer(unclear_poems) as server:
        ctx = _chat(tmp_path, server, 5, "five")
        answers, _ = _classify_all(ctx)
    assert answers[0] is True and answers[5] is True  # the first task of each prompt of five
    assert answers[6:] == [None] * 4
    with ctx.sessions() as session:
        assert len(session.scalars(select(Rejection.id)).all()) == 4


@pytest.mark.parametrize(("api", "agreement", "allowed"), [
    ("chat", None, True), ("completions", None, False), ("completions", 0.95, True)])
def test_several_tasks_per_prompt_are_refused_on_a_base_model_until_an_agreement_is_measured(
        api: str, agreement: float | None, allowed: bool) -> None:
    settings = Settings(llm_base_url="http://h:1/v1", classify_per_prompt=3,
                        classify_per_prompt_agreement=agreement)
    if allowed:
        assert classify_per_prompt(settings, api) == 3
    else:
        with pytest.raises(ConfigError, match="CLASSIFY_PER_PROMPT_AGREEMENT"):
            classify_per_prompt(settings, api)


def test_the_embedded_default_is_a_base_model_and_one_task_per_prompt_is_always_allowed() -> None:
    with pytest.raises(ConfigError):
        classify_per_prompt(Settings(classify_per_prompt=2))
    assert classify_per_prompt(Settings()) == 1
