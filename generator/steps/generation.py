"""The generate step: propose new instructions with in-context examples from the pool."""

from __future__ import annotations

from sqlalchemy.orm import Session

from generator.db import models, rows
from generator.db import repository as repo
from generator.db.examples import sample_instructions
from generator.db.statuses import CandidateStatus, Origin, RoundStatus
from generator.records import Stage
from generator.selfinstruct import instructions
from generator.steering import PromptPlan, SteeringParams, plan_prompt
from generator.steering.hints import render_steered_prompt
from generator.steps.context import StepContext, batch_size, raise_if_transient, request_row


def generate(ctx: StepContext, round_id: int) -> list[int]:
    """Ask the LLM for new instructions; store the request and its parsed candidates; return the ids of
    the pending ones.

    One request carries :func:`batch_size` prompts. Unsteered (strategy ``none``), their in-context
    instructions are drawn from one random sample of the pool per origin, big enough for every prompt
    to get distinct items. A steered round's prompts are planned by :func:`generator.steering.plan_prompt`
    over the whole live pool and its tag counts (``ctx.coverage``), and each plan (aimed-at tags,
    example task ids) is stored with the request. Admission never sees the plan.
    """
    per_request = batch_size(ctx)
    with ctx.sessions() as session:
        rnd = repo.get_round(session, round_id)
        pool_id, steering = rnd.pool_id, SteeringParams.from_json(rnd.steering)
        plans = _plan(ctx, session, pool_id, steering, per_request) if steering.steered else None
        prompts = ([render_steered_prompt(plan, ctx.params) for plan in plans] if plans is not None
                   else _plain_prompts(ctx, session, pool_id, per_request))
    call = ctx.client.complete(prompts, ctx.params.instruction_decoding, Stage.GENERATE)
    with ctx.sessions.begin() as session:
        running = repo.round_status_for_update(session, round_id) == RoundStatus.RUNNING
        plan_rows = [plan.to_json() for plan in plans] if plans is not None else None
        row = request_row(ctx, pool_id, round_id, call, steering=plan_rows)
        request_id = rows.insert_request(session, row)
        texts: list[str] = []
        rejections: list[dict[str, object]] = []
        for prompt, choice in zip(prompts, call.choices, strict=False):
            parsed = instructions.parse_instruction_completion(
                choice.text, _next_number(prompt), choice.finish_reason, ctx.params
            )
            texts.extend(parsed.instructions)
            rejections += [rows.rejection_row(pool_id, round_id, rejection, request_id=request_id)
                           for rejection in parsed.rejections]
        rows.insert_rows(session, models.Rejection, rejections)
        # A round that ended meanwhile keeps what came back as surplus: never judged, never pending.
        ids = repo.add_candidates(session, pool_id, round_id, request_id, texts,
                                  CandidateStatus.PENDING if running else CandidateStatus.SURPLUS)
    raise_if_transient(call)
    return ids if running else []


def _plain_prompts(ctx: StepContext, session: Session, pool_id: int, per_request: int) -> list[str]:
    """The plain loop's prompts: 6 seed + 2 machine instructions drawn uniformly per prompt."""
    n_machine = ctx.params.machine_instructions_per_prompt
    n_seed = ctx.params.seed_instructions_per_prompt + n_machine  # seeds fill in for missing machine ones
    seeds = sample_instructions(session, pool_id, Origin.SEED, n_seed * per_request)
    machine = sample_instructions(session, pool_id, Origin.MACHINE, n_machine * per_request)
    return [
        instructions.render_instruction_prompt(
            instructions.select_prompt_instructions(seeds, machine, ctx.params, ctx.rng), ctx.params)
        for _ in range(per_request)
    ]


def _plan(ctx: StepContext, session: Session, pool_id: int, steering: SteeringParams,
          per_request: int) -> list[PromptPlan]:
    """A steered request's plans, from the pool's incrementally updated tag coverage."""
    snapshot = ctx.coverage.snapshot(session, pool_id)
    return [plan_prompt(snapshot.seeds, snapshot.machine, snapshot.coverage, steering, ctx.params, ctx.rng)
            for _ in range(per_request)]


def _next_number(prompt: str) -> int:
    """The list number the prompt ends on (the item the model is asked to continue)."""
    tail = prompt.rstrip().rsplit("\n", 1)[-1]
    return int(tail.strip().rstrip(".").strip() or 0)
