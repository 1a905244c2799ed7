"""The round policy on its own: one state in, one decision out (both executors call it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from generator.rounds import policy
from generator.rounds.policy import Done, Failing, Generate, Interrupt, Limit, RoundState, Wait, Yield, decide

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
FRESH = RoundState(target=100, live=0, open_tasks=0, now=NOW)
REFUSED = "401 Unauthorized: Incorrect API key provided: sk-***"


def test_generate_requests_follow_the_shortfall_and_the_cap() -> None:
    assert decide(FRESH) == Generate(20)  # nothing known yet: 100 / 5 per request (the executor caps it)
    near_end = replace(FRESH, live=95, produced=Yield(admitted=95, rejected=5, generate_requests=25))
    assert decide(near_end) == Generate(2)  # 5 short at 3.8 kept per request
    waiting = replace(FRESH, live=95, produced=Yield(admitted=95, pending=10, generate_requests=25))
    assert decide(waiting) == Wait()  # the pending candidates will cover it
    assert decide(replace(FRESH, target=10, live=10)) == Done()
    assert decide(replace(FRESH, target=10, live=10, open_tasks=1)) == Wait()  # a task still needs instances


def test_budget_and_deadline_end_the_round_as_limits() -> None:
    assert decide(replace(FRESH, tokens_used=500, budget_tokens=500)) == Limit("budget")
    assert decide(replace(FRESH, tokens_used=499, budget_tokens=500)) == Generate(20)
    assert decide(replace(FRESH, deadline=NOW - timedelta(seconds=1))) == Limit("deadline")
    naive = (NOW - timedelta(seconds=1)).replace(tzinfo=None)  # stored naive = UTC
    assert decide(replace(FRESH, deadline=naive)) == Limit("deadline")


def test_three_permanent_refusals_in_a_row_fail_the_round_with_the_servers_message() -> None:
    # only instances refused while generation works: the instances stage alone fails the round
    refused = {"generate": (None, None, None), "instances": (REFUSED, REFUSED, REFUSED)}
    assert decide(replace(FRESH, stage_errors=refused)) == Failing(
        f"the endpoint refused 3 instances requests in a row: {REFUSED}")
    assert isinstance(decide(replace(FRESH, stage_errors={"classify": (REFUSED, REFUSED, None)})), Generate)
    # 429 and 5xx are transient: three of them are not a refusal
    busy = {"generate": ("429 Too Many Requests after 6 attempts",) * 3}
    assert isinstance(decide(replace(FRESH, stage_errors=busy)), Generate)


def test_eight_failed_requests_in_a_row_fail_the_round() -> None:
    errors = ("503 Service Unavailable after 6 attempts",) * 7
    assert isinstance(decide(replace(FRESH, recent_errors=errors)), Generate)
    cause = decide(replace(FRESH, recent_errors=("request timed out after 6 attempts", *errors)))
    assert cause == Failing("the last 8 LLM requests failed; the last: request timed out after 6 attempts")


def test_stage_failures_name_their_cause_and_no_progress_fails_a_round_short_of_its_target() -> None:
    last = "generate: BrokerUnavailableError: redis down"
    broken = replace(FRESH, stage_failures=5, last_stage_failure=last)
    assert decide(broken) == Failing(f"5 stage tasks failed; the last, {last}")
    assert isinstance(decide(replace(broken, stage_failures=4)), Generate)
    stuck = replace(FRESH, fruitless_generates=policy.FRUITLESS_GENERATES)
    decision = decide(stuck)
    assert isinstance(decision, Failing) and decision.cause.startswith("no progress: the last 50 generate")
    assert decide(replace(stuck, target=10, live=10)) == Done()  # past the target, no progress is needed


def test_a_stop_request_interrupts_unless_the_round_is_failing() -> None:
    assert decide(replace(FRESH, stop_requested=True)) == Interrupt()
    refused = {"generate": (REFUSED,) * 3}
    assert isinstance(decide(replace(FRESH, stop_requested=True, stage_errors=refused)), Failing)
