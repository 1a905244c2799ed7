"""Write endpoints: start and cancel rounds, only with the bearer token (see api.deps.require_token).

Starting a round needs a runner: the API process does not run rounds itself, so it starts a
fleet round when SELFINSTRUCT_BROKER_URL is set and answers 409 otherwise (run
``selfinstruct generate`` for an in-process round).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field

from api.deps import Service, require_token, service
from api.reads import Id, PoolName
from generator.db.filters import MAX_ID
from generator.db.statuses import RoundMode, RoundStatus

router = APIRouter(dependencies=[Depends(require_token)])
Svc = Annotated[Service, Depends(service)]


class RoundStart(BaseModel):
    """A new round's target and optional token budget."""

    instructions: int = Field(ge=1, le=1_000_000, description="New instructions to complete.")
    budget_tokens: int | None = Field(default=None, ge=1, le=MAX_ID)


@router.post("/pools/{pool}/rounds", status_code=201, summary="Start a round (fleet)")
def start_round(pool: PoolName, body: RoundStart, svc: Svc) -> dict[str, Any]:
    """Open a fleet round of ``instructions`` in the pool (created and seeded when new)."""
    settings = svc.settings
    if settings.broker_url is None:
        raise HTTPException(
            409,
            "no runner: the API starts fleet rounds only and SELFINSTRUCT_BROKER_URL is "
            "not set (run `selfinstruct generate` for an in-process round)",
        )
    from generator.wiring import ensure_seeded_pool
    from workers import control
    from workers.context import current

    with svc.sessions().begin() as session:
        pool_id = ensure_seeded_pool(session, settings, pool).id
    round_id = control.start_round(current(), pool_id, body.instructions, budget_tokens=body.budget_tokens)
    return {"round_id": round_id, "pool": pool, "target": body.instructions, "mode": RoundMode.FLEET}


@router.post("/rounds/{round_id}/cancel", summary="Cancel a running round")
def cancel(round_id: Id, svc: Svc) -> dict[str, Any]:
    """Cancel a running round (fleet or in-process); 409 when it had already ended."""
    from generator.rounds.ending import cancel_round

    cancel_round(svc.sessions(), round_id)
    return {"round_id": round_id, "status": RoundStatus.CANCELLED}
