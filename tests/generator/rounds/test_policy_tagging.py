"""The round policy with tagging on: a round at its target waits for its untagged tasks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from generator.rounds.policy import Done, Generate, Limit, RoundState, Wait, decide

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
AT_TARGET = RoundState(target=10, live=10, open_tasks=0, now=NOW)


def test_a_round_at_its_target_is_done_only_once_no_complete_task_waits_for_tags() -> None:
    assert decide(replace(AT_TARGET, untagged=3)) == Wait()
    assert decide(replace(AT_TARGET, untagged=0)) == Done()
    assert decide(replace(AT_TARGET, untagged=2, open_tasks=1)) == Wait()


def test_untagged_tasks_neither_ask_for_generation_nor_hold_off_a_limit() -> None:
    short = replace(AT_TARGET, live=4, untagged=4)
    assert isinstance(decide(short), Generate)
    assert decide(replace(AT_TARGET, untagged=5, deadline=NOW - timedelta(seconds=1))) == Limit("deadline")
