"""The runner's request order groups each stage's prompt prefix; the embedded server gets one request
at a time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from generator.db.models import LLMRequest
from generator.rounds.ordering import order_by_prompt_prefix, request_slots, same_stage_first
from generator.rounds.runner import RoundRunner
from generator.settings import Settings
from generator.testing.llm_double import ScriptedLLMServer
from generator.testing.responders import SelfInstructResponder
from tests.support.pools import open_round, scripted_context, sqlite_url


@dataclass
class _Task:
    id: int
    is_classification: bool | None


def test_output_first_tasks_come_before_input_first_ones_in_id_order() -> None:
    tasks = [_Task(1, False), _Task(2, True), _Task(3, None), _Task(4, True), _Task(5, False)]
    assert order_by_prompt_prefix(tasks) == [2, 4, 1, 3, 5]


def test_the_embedded_server_gets_one_request_in_flight_when_ordered() -> None:
    assert request_slots(Settings(llm_concurrency=4)) == 1
    assert request_slots(Settings(llm_concurrency=4), prefix_ordered=False) == 4


def test_a_configured_endpoint_keeps_its_concurrency() -> None:
    settings = Settings(llm_base_url="http://127.0.0.1:1/v1", llm_concurrency=6)
    assert request_slots(settings) == 6


def test_the_stage_sent_last_goes_first_and_the_rest_keep_their_order() -> None:
    jobs = [("instances", (1,)), ("classify", (2,)), ("tag", (1, 1, 3)), ("classify", (4,))]
    assert same_stage_first(jobs, "classify") == [jobs[1], jobs[3], jobs[0], jobs[2]]
    assert same_stage_first(jobs, "") == jobs


def test_one_request_at_a_time_sends_each_stage_back_to_back(tmp_path: Path) -> None:
    with ScriptedLLMServer(SelfInstructResponder(seed=2)) as server:
        ctx = scripted_context(sqlite_url(tmp_path), server.base_url, concurrency=1)
        round_id = open_round(ctx.sessions, 10)
        RoundRunner(ctx).run(round_id)
    with ctx.sessions() as session:
        stages = list(session.scalars(select(LLMRequest.stage).order_by(LLMRequest.id)))
    runs = [stage for n, stage in enumerate(stages) if n == 0 or stages[n - 1] != stage]
    # Every generate answer opens several tasks: their classifications go out together, then their
    # instances, so the stage changes about three times per generate request -- not once per task.
    assert stages.count("classify") >= 10 and runs.count("classify") <= stages.count("generate")
    assert runs.count("instances") <= 2 * stages.count("generate")
