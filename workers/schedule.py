"""The beat schedule: the tick of running rounds, plus rounds to start from a schedule file.

The file (``SELFINSTRUCT_SCHEDULE_FILE`` or ``selfinstruct beat --schedule``) is YAML or JSON::

    tick_s: 10                  # optional; default SELFINSTRUCT_FLEET_TICK_S
    rounds:
      - pool: default
        every_minutes: 30       # or  cron: "*/30 * * * *"  (minute hour day-of-month month day-of-week)
        instructions: 200
        until_pool_size: 50000  # optional: stop once the pool holds this many usable tasks
        budget_tokens: 2000000  # optional, per round
        deadline_minutes: 25    # optional: each round ends this long after it starts
        steer: rare-examples    # optional: none (default) | rare-examples | tag-hints

A scheduled start is skipped while the pool already has a running fleet round.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
import yaml
from celery.beat import PersistentScheduler
from celery.schedules import crontab
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select

from generator.db import repository as repo
from generator.db.models import Task
from generator.errors import ConfigError
from generator.settings import Settings, load_settings
from generator.steering import SteeringParams, Strategy
from workers import control, stall
from workers.context import WorkerContext
from workers.leases import require_redis

log = logging.getLogger(__name__)


class Scheduler(PersistentScheduler):  # type: ignore[misc]
    """Celery's file-backed beat scheduler; every loop also writes beat's heartbeat
    (:func:`workers.stall.note_beat`), so ``round status`` can tell whether a scheduler is alive."""

    _heartbeat: redis.Redis | None = None

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            if self._heartbeat is None:
                self._heartbeat = redis.Redis.from_url(require_redis(load_settings()), socket_timeout=5)
            stall.note_beat(self._heartbeat)
        except (redis.RedisError, ConfigError) as exc:
            log.warning("beat heartbeat not written: %s", exc)
        return float(super().tick(*args, **kwargs))


class ScheduledRound(BaseModel):
    """One recurring round."""

    model_config = ConfigDict(extra="forbid")
    pool: str = "default"
    instructions: int = Field(ge=1)
    every_minutes: float | None = Field(default=None, gt=0)
    cron: str | None = None
    until_pool_size: int | None = Field(default=None, ge=1)
    budget_tokens: int | None = Field(default=None, ge=1)
    deadline_minutes: float | None = Field(default=None, gt=0)
    steer: Strategy = Strategy.NONE

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduledRound:
        if (self.every_minutes is None) == (self.cron is None):
            raise ValueError("give exactly one of every_minutes or cron")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError("cron needs 5 fields: minute hour day-of-month month day-of-week")
        return self


class ScheduleFile(BaseModel):
    """The whole schedule file."""

    model_config = ConfigDict(extra="forbid")
    tick_s: float | None = Field(default=None, gt=0)
    rounds: list[ScheduledRound] = Field(default_factory=list)


def read_schedule(path: Path) -> ScheduleFile:
    """Parse and validate a schedule file; ConfigError naming the file and the field otherwise."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return ScheduleFile.model_validate(data)
    except OSError as exc:
        raise ConfigError(f"schedule file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"schedule file {path}: not YAML/JSON: {exc}") from None
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"schedule file {path}: {where}") from None


def beat_schedule(settings: Settings, path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Celery ``beat_schedule`` entries: ``tick_all`` every tick, plus the file's rounds."""
    path = path or settings.schedule_file
    spec = read_schedule(path) if path is not None else ScheduleFile()
    tick_s = spec.tick_s or settings.fleet_tick_s
    # A tick nobody consumed in time is dropped: the next one re-derives the same work anyway.
    tick = {"task": "selfinstruct.tick_all", "schedule": tick_s, "options": {"expires": tick_s}}
    entries: dict[str, dict[str, Any]] = {"selfinstruct-tick": tick}
    for number, item in enumerate(spec.rounds):
        if item.cron is not None:
            minute, hour, day_of_month, month, day_of_week = item.cron.split()
            timing: Any = crontab(minute=minute, hour=hour, day_of_week=day_of_week,
                                  day_of_month=day_of_month, month_of_year=month)
        else:
            timing = timedelta(minutes=item.every_minutes or 0)
        entries[f"selfinstruct-round-{number}-{item.pool}"] = {
            "task": "selfinstruct.start_scheduled_round",
            "schedule": timing,
            "kwargs": item.model_dump(mode="json", exclude={"every_minutes", "cron"}),
        }
    return entries


def start_scheduled_round(wc: WorkerContext, pool_name: str, instructions: int, until_pool_size: int | None,
                          budget_tokens: int | None, deadline_minutes: float | None,
                          steer: str = "none") -> int | None:
    """Start a round of ``instructions`` (fewer if the pool is nearly full); None when skipped."""
    from generator.wiring import ensure_seeded_pool

    with wc.sessions.begin() as session:
        pool = ensure_seeded_pool(session, wc.settings, pool_name)
        busy = repo.running_round(session, pool.id, mode="fleet")
        size = int(session.scalar(
            select(func.count()).where(Task.pool_id == pool.id, Task.status != repo.NO_INSTANCES)
        ) or 0)
        pool_id = pool.id
    if busy is not None:
        log.info("pool %r: round %s still running, scheduled start skipped", pool_name, busy.id)
        return None
    target = instructions if until_pool_size is None else min(instructions, until_pool_size - size)
    if target <= 0:
        log.info("pool %r holds %d tasks (>= %s): scheduled start skipped", pool_name, size, until_pool_size)
        return None
    deadline = datetime.now(UTC) + timedelta(minutes=deadline_minutes) if deadline_minutes else None
    return control.start_round(wc, pool_id, target, budget_tokens=budget_tokens, deadline=deadline,
                               steering=SteeringParams(Strategy(steer)))
