"""Typed read models: what the CLI (and the API) show about a pool and its tasks, as dataclasses.

Queries in :mod:`generator.db.stats` fill them; ``as_json`` gives the documented JSON shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from generator.export.records import ExportInstance

if TYPE_CHECKING:  # the ORM stays out of the fast query commands (generator/db/plain)
    from generator.db.models import Task


@dataclass(frozen=True)
class RequestTotals:
    """LLM requests of a pool: how many, how many failed, by stage."""

    total: int = 0
    failed: int = 0
    by_stage: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenTotals:
    """Tokens spent by a pool's requests."""

    prompt: int = 0
    completion: int = 0
    prompt_cached: int = 0  # of ``prompt``: served from the endpoint's prompt cache, when it says so

    @property
    def prompt_uncached(self) -> int:
        return self.prompt - self.prompt_cached

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass(frozen=True)
class PoolStats:
    """Pool-wide statistics: tasks by origin / classification / status, rejections, requests, cost."""

    pool: str
    tasks: int
    by_origin: dict[str, int]
    by_classification: dict[str, int]  # yes | no | unknown
    by_status: dict[str, int]
    instances: int
    rejections: dict[str, int]  # "<stage>/<reason>" -> count
    rounds: dict[str, int]  # round status -> count
    requests: RequestTotals
    tokens: TokenTotals
    cost_usd: float | None

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["tokens"]["total"] = self.tokens.total
        out["tokens"]["prompt_uncached"] = self.tokens.prompt_uncached
        return out


@dataclass(frozen=True)
class InstanceView:
    input: str
    output: str


@dataclass(frozen=True)
class TaskView:
    """One pool task as listed: its place in the pipeline, nearest pool match and instances."""

    id: int
    origin: str
    round: int | None
    status: str
    is_classification: bool | None
    instruction: str
    nearest_task_id: int | None
    nearest_score: float | None
    instances: list[InstanceView]

    @classmethod
    def of(cls, task: Task) -> TaskView:
        return cls(
            task.id,
            task.origin,
            task.round_id,
            task.status,
            task.is_classification,
            task.instruction,
            task.nearest_task_id,
            task.nearest_score,
            [InstanceView(i.input, i.output) for i in task.instances],
        )

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TaskRow:
    """One listed task: what `pool list` prints and the API returns."""

    id: int
    origin: str
    round_id: int | None
    status: str
    is_classification: bool | None
    instruction: str
    nearest_task_id: int | None
    nearest_score: float | None
    created_at: datetime
    model: str | None
    instances: tuple[ExportInstance, ...]

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields (``created_at`` as ISO 8601, instances as objects)."""
        out = asdict(self)
        out["created_at"] = self.created_at.isoformat()
        out["instances"] = [{"input": i.input, "output": i.output} for i in self.instances]
        return out
