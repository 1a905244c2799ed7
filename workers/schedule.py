"""The beat schedule: the tick of running rounds, plus rounds to start and pools to re-normalize
from a schedule file.

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
        tag: true               # optional: tag each task (InsTag) once complete; done when all are
    normalize:
      - pool: default
        every_minutes: 360      # or  cron: "0 4 * * *"
        # a new tag vocabulary version, skipped when no task was tagged since the latest one

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

from generator.db import fleet as fleet_db
from generator.db import repository as repo
from generator.db.statuses import RoundMode
from generator.errors import ConfigError, NotFoundError
from generator.settings import Settings, load_settings
from generator.steering import SteeringParams, Strategy
from generator.steps.vocabulary import normalize_pool
from generator.wiring import embedder_for
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


class Timed(BaseModel):
    """A recurring entry: every so many minutes, or on a cron line."""

    model_config = ConfigDict(extra="forbid")
    pool: str = "default"
    every_minutes: float | None = Field(default=None, gt=0)
    cron: str | None = None

    @model_validator(mode="after")
    def _one_timing(self) -> Timed:
        if (self.every_minutes is None) == (self.cron is None):
            raise ValueError("give exactly one of every_minutes or cron")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError("cron needs 5 fields: minute hour day-of-month month day-of-week")
        return self

    def timing(self) -> Any:
        """Celery's schedule of the entry: a crontab or a timedelta."""
        if self.cron is not None:
            minute, hour, day_of_month, month, day_of_week = self.cron.split()
            return crontab(minute=minute, hour=hour, day_of_week=day_of_week, day_of_month=day_of_month,
                           month_of_year=month)
        return timedelta(minutes=self.every_minutes or 0)


class ScheduledRound(Timed):
    """One recurring round."""

    instructions: int = Field(ge=1)
    until_pool_size: int | None = Field(default=None, ge=1)
    budget_tokens: int | None = Field(default=None, ge=1)
    deadline_minutes: float | None = Field(default=None, gt=0)
    steer: Strategy = Strategy.NONE
    tag: bool = False


class ScheduledNormalize(Timed):
    """A recurring re-normalization of a pool's tags into a new vocabulary version."""


class ScheduleFile(BaseModel):
    """The whole schedule file."""

    model_config = ConfigDict(extra="forbid")
    tick_s: float | None = Field(default=None, gt=0)
    rounds: list[ScheduledRound] = Field(default_factory=list)
    normalize: list[ScheduledNormalize] = Field(default_factory=list)


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
    """Celery ``beat_schedule`` entries: ``tick_all`` every tick, plus the file's rounds and
    normalizations."""
    path = path or settings.schedule_file
    spec = read_schedule(path) if path is not None else ScheduleFile()
    tick_s = spec.tick_s or settings.fleet_tick_s
    # A tick nobody consumed in time is dropped: the next one re-derives the same work anyway.
    tick = {"task": "selfinstruct.tick_all", "schedule": tick_s, "options": {"expires": tick_s}}
    entries: dict[str, dict[str, Any]] = {"selfinstruct-tick": tick}
    for number, item in enumerate(spec.rounds):
        entries[f"selfinstruct-round-{number}-{item.pool}"] = {
            "task": "selfinstruct.start_scheduled_round",
            "schedule": item.timing(),
            "kwargs": item.model_dump(mode="json", exclude={"every_minutes", "cron"}),
        }
    for number, norm in enumerate(spec.normalize):
        entries[f"selfinstruct-normalize-{number}-{norm.pool}"] = {
            "task": "selfinstruct.normalize_tags", "schedule": norm.timing(), "kwargs": {"pool": norm.pool},
        }
    return entries


def start_scheduled_round(wc: WorkerContext, pool_name: str, instructions: int, until_pool_size: int | None,
                          budget_tokens: int | None, deadline_minutes: float | None,
                          steer: str = "none", tag: bool = False) -> int | None:
    """Start a round of ``instructions`` (fewer if the pool is nearly full); None when skipped."""
    from generator.wiring import ensure_seeded_pool

    with wc.sessions.begin() as session:
        pool = ensure_seeded_pool(session, wc.settings, pool_name)
        busy = repo.running_round(session, pool.id, mode=RoundMode.FLEET)
        size = fleet_db.usable_pool_size(session, pool.id)
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
                               steering=SteeringParams(Strategy(steer)), tag=tag)


def normalize_scheduled(wc: WorkerContext, pool_name: str) -> int | None:
    """Re-normalize the pool's tags into a new vocabulary version; its id, or None when skipped (no
    such pool, no tagged task, or none tagged since the latest version)."""
    try:
        with wc.sessions() as session:
            pool_id = repo.get_pool(session, pool_name).id
    except NotFoundError:
        log.info("pool %r does not exist: scheduled normalization skipped", pool_name)
        return None
    made = normalize_pool(wc.sessions, lambda: embedder_for(wc.settings), pool_id, only_if_new=True)
    if made is None:
        log.info("pool %r: no task tagged since the latest vocabulary, normalization skipped", pool_name)
        return None
    log.info("pool %r: vocabulary %s (%s)", pool_name, made.id,
             " -> ".join(f"{c.stage} {c.count}" for c in made.vocabulary.counts))
    return made.id
