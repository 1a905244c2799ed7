"""The runner's request order groups each stage's prompt prefix; the embedded server gets one request
at a time."""

from __future__ import annotations

from dataclasses import dataclass

from generator.rounds.ordering import order_by_prompt_prefix, request_slots
from generator.settings import Settings


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
